/* Faro: a live GSM-7 / segment counter for the message catalog's scratch box.
 *
 * The character tables come from the page (escalation.base.messages, the ones Faro sends
 * with), so this file holds only the arithmetic: GSM-7 counts septets (an extension-table
 * character is an escape plus itself, two septets, never split across two parts), 160 alone or
 * 153 per part; one character outside GSM-7 turns the text into UCS-2: 70 alone or 67 per
 * part, counted in UTF-16 units as the network counts them. */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function gsm7Parts(chars, extension, single, part) {
    var septets = 0;
    chars.forEach(function (c) { septets += extension.has(c) ? 2 : 1; });
    if (septets <= single) return { length: septets, parts: 1, room: single };
    var parts = 1, room = part;
    chars.forEach(function (c) {
      var size = extension.has(c) ? 2 : 1;
      if (size > room) { parts += 1; room = part; }
      room -= size;
    });
    return { length: septets, parts: parts, room: parts * part };
  }

  function ucs2Parts(text) {
    var units = text.length;  /* UTF-16 code units: an emoji takes two */
    var parts = units <= 70 ? 1 : Math.ceil(units / 67);
    return { length: units, parts: parts, room: parts === 1 ? 70 : parts * 67 };
  }

  function count(box) {
    var data = box.dataset;
    var basic = new Set(Array.from(data.basic)), extension = new Set(Array.from(data.extension));
    var chars = Array.from(box.value);
    var outside = chars.filter(function (c) { return !basic.has(c) && !extension.has(c); });
    var parts = outside.length ? ucs2Parts(box.value)
      : gsm7Parts(chars, extension, Number(data.single), Number(data.part));
    var values = { n: parts.length, room: parts.room };
    var words = [outside.length ? fill(data.ucs2, values) : data.gsm7 + " · " + fill(data.septets, values),
                 parts.parts === 1 ? data.segmentOne : fill(data.segments, { n: parts.parts })];
    if (outside.length) words.push(data.outside + " " + Array.from(new Set(outside)).join(" "));
    return { text: words.join(" · "), parts: parts.parts, gsm7: !outside.length };
  }

  function start() {
    var box = document.getElementById("scratch"), out = document.getElementById("scratch-count");
    if (!box || !out) return;
    function update() {
      var counted = count(box);
      out.textContent = counted.text;
      out.dataset.segments = counted.parts;
      out.classList.toggle("error", !counted.gsm7 || counted.parts > 2);
    }
    box.addEventListener("input", update);
    update();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
