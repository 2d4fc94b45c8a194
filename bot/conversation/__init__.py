"""The conversation floor: what an inbound text means, and which handler answers it.

`interpret` turns a text into one Intent (pure, no database); `inbound` stores the message,
finds who sent it and routes (sender's role, intent) to one handler in the `*_replies`
modules, which change the domain (`escalation`) and return what to answer.
"""
