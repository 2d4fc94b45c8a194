// Phone simulator: send a text (or call Faro's number) as the chosen roster phone, poll what
// Faro answered and sent.
// Every time arrives formatted by the server in the person's zone; the browser's clock is
// never read. Plain script, no build step.
(function () {
  const phone = document.getElementById("phone");
  const body = document.getElementById("body");
  const conversation = document.getElementById("conversation");
  const empty = document.getElementById("empty");
  const outbox = document.getElementById("outbox");
  const clock = document.getElementById("clock");
  const keys = document.getElementById("keys");
  const callResult = document.getElementById("call-result");
  let shown = "";  // the last response rendered, to leave an unchanged page (and its scroll) alone

  function element(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function kindName(kind) {
    return kind.replace(/_/g, " ");
  }

  // How a message from Faro reached the phone: the answer to the text above, or sent later.
  function how(item) {
    if (item.direct) return "reply";
    return (item.call ? "call" : "sent later") + " · " + kindName(item.kind);
  }

  function bubble(item) {
    const li = element("li", undefined, item.from);
    if (item.from === "faro") {
      li.classList.add(item.direct ? "direct" : "later");
      if (item.call) li.classList.add("call");
      if (item.status === "failed") li.classList.add("failed");
    }
    if (item.call) li.appendChild(element("strong", callTitle(item), "call-title"));
    li.appendChild(element("span", item.body, "body"));
    let meta = item.time;
    if (item.from === "faro") meta += " · " + how(item);
    if (item.status === "failed") meta += " · not delivered";
    li.appendChild(element("small", meta, "meta"));
    return li;
  }

  // A call from Faro, what Faro said on her call to it, or her own call.
  function callTitle(item) {
    if (item.from === "me") return "☎ Call to Faro";
    return item.direct ? "☎ Faro said on the call" : "☎ Call from Faro";
  }

  function row(m) {
    const tr = element("tr");
    if (m.direct) tr.classList.add("direct");
    if (m.call) tr.classList.add("call");
    if (m.to === phone.value) tr.classList.add("mine");
    tr.appendChild(element("td", m.time, "when"));
    tr.appendChild(element("td", (m.name ? m.name + " " : "") + m.to + " (" + m.channel + ")"));
    tr.appendChild(element("td", m.direct ? "direct reply" : kindName(m.kind), "kind"));
    tr.appendChild(element("td", (m.call ? "☎ Call: " : "") + m.body, "text"));
    tr.appendChild(element("td", m.status, "status-" + m.status));
    return tr;
  }

  function atBottom() {
    return conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 48;
  }

  function show(data, toBottom) {
    const follow = toBottom || atBottom();
    clock.textContent = "Times in " + data.zone + (data.name ? ", " + data.name + "'s clock" : "") + ".";
    conversation.replaceChildren(...data.conversation.map(bubble));
    empty.hidden = data.conversation.length > 0;
    outbox.replaceChildren(...data.outbox.map(row));
    if (follow) conversation.scrollTop = conversation.scrollHeight;
  }

  async function refresh(toBottom) {
    const asked = phone.value;
    const response = await fetch("/simulator/messages?phone=" + encodeURIComponent(asked));
    if (!response.ok || asked !== phone.value) return;  // the phone changed meanwhile
    const text = await response.text();
    if (text === shown && !toBottom) return;
    shown = text;
    show(JSON.parse(text), toBottom === true);
  }

  document.getElementById("compose").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = body.value;
    body.value = "";
    await fetch("/simulator/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ phone: phone.value, body: text }),
    });
    await refresh(true);
    setTimeout(() => refresh(true), 400);
  });
  // A call to Faro's number: what Faro said on it (nothing when it rejected the call).
  async function dial(missed) {
    const response = await fetch("/simulator/call", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ phone: phone.value, keys: missed ? "" : keys.value, missed }),
    });
    const call = await response.json();
    let text;
    if (call.rejected) text = "Faro rejected the call (busy tone, free): it is her check-in.";
    else if (missed) text = "Faro answered; you hung up at once (outside her window a call gets the menu).";
    else text = "Faro said: " + call.said.join(" / ") + (call.pressed ? " (pressed " + call.pressed + ")" : " (no key pressed)");
    callResult.textContent = text;
    callResult.hidden = false;
    keys.value = "";
    await refresh(true);
    setTimeout(() => refresh(true), 400);
  }

  document.getElementById("missed-call").addEventListener("click", () => dial(true));
  document.getElementById("call").addEventListener("click", () => dial(false));
  document.getElementById("dial").addEventListener("submit", (event) => {
    event.preventDefault();
    dial(false);
  });
  phone.addEventListener("change", () => refresh(true));
  refresh(true);
  setInterval(() => refresh(false), 2000);
})();
