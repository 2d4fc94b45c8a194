"""The base floor: what every other floor stands on, importing nothing else of Faro.

Models, the database and its claims, the timeline and outbox writes, the message catalog and
its renderer, phone numbers, local-time schedule rules, and the registries of incident kinds
and channels.
"""
