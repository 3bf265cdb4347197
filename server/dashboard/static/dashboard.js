// Hymy dashboard: the only script. Marks the scroll boxes that overflow (their "scroll" hint), and keeps
// Today and the team screen live by polling a small JSON endpoint (Today every 3 s, so a sync shows
// within 5 s), replacing each store card that changed.
(function () {
  "use strict";
  // A scroll box whose content is wider than it shows its "scroll" hint (data-overflow on its .scrollbox).
  function markOverflow() {
    var boxes = document.querySelectorAll(".scrollbox");
    for (var i = 0; i < boxes.length; i++) {
      var sc = boxes[i].querySelector(".scroller");
      if (sc && sc.scrollWidth > sc.clientWidth + 1) boxes[i].setAttribute("data-overflow", "");
      else boxes[i].removeAttribute("data-overflow");
    }
  }
  markOverflow();
  window.addEventListener("resize", markOverflow);
  window.addEventListener("load", markOverflow);
})();

(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) return;
  var src = live.getAttribute("data-src");
  var every = parseInt(live.getAttribute("data-interval"), 10) || 3000;
  var stamp = document.getElementById("live-at");
  var timer = null;

  function apply(data) {
    (data.stores || []).forEach(function (s) {
      var el = document.getElementById("store-" + s.id);
      // the page carries each card's version, so a press synced before the first poll still shows
      if (!el || el.getAttribute("data-version") === s.version) return;
      var tmp = document.createElement("template");  // parses a card or a table row alike
      tmp.innerHTML = s.html.trim();
      var fresh = tmp.content.firstElementChild;
      if (fresh) {
        fresh.classList.add("flash-update");
        el.replaceWith(fresh);
      }
    });
    var banner = document.getElementById("alerts-banner");
    if (banner && typeof data.alerts_html === "string" && banner.innerHTML !== data.alerts_html) {
      banner.innerHTML = data.alerts_html;
    }
    live.classList.remove("stale");
    if (stamp && data.at) stamp.textContent = "· " + data.at;
  }

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", src, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status === 200) {
        try { apply(JSON.parse(xhr.responseText)); } catch (e) { live.classList.add("stale"); }
      } else if (xhr.status === 401 || xhr.status === 404 || xhr.status === 410) {
        // signed out, or a team screen's link revoked: the reload shows the sign-in or a plain page
        window.location.reload();
        return;
      } else {
        live.classList.add("stale");
      }
      schedule();
    };
    xhr.onerror = function () { live.classList.add("stale"); schedule(); };
    xhr.send();
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, document.hidden ? every * 5 : every);
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  poll();
})();
