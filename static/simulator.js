// Phone simulator: send a text as the chosen roster phone, poll what Faro answered and sent.
(function () {
  const phone = document.getElementById("phone");
  const body = document.getElementById("body");
  const conversation = document.getElementById("conversation");
  const outbox = document.getElementById("outbox");

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function show(data) {
    conversation.replaceChildren(...data.conversation.map((item) => {
      const li = document.createElement("li");
      li.className = item.from;
      li.textContent = item.body;
      return li;
    }));
    outbox.replaceChildren(...data.outbox.map((m) => {
      const tr = document.createElement("tr");
      cell(tr, new Date(m.at).toLocaleTimeString());
      cell(tr, (m.name ? m.name + " " : "") + m.to + " (" + m.channel + ")");
      cell(tr, m.kind);
      cell(tr, m.body);
      cell(tr, m.status, "status-" + m.status);
      return tr;
    }));
  }

  async function refresh() {
    const response = await fetch("/simulator/messages?phone=" + encodeURIComponent(phone.value));
    if (response.ok) show(await response.json());
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
    await refresh();
    setTimeout(refresh, 400);
  });
  phone.addEventListener("change", refresh);
  refresh();
  setInterval(refresh, 2000);
})();
