/* The cashier screen's progressive enhancements (everything works without them):
   - the touch PIN pad (digits masked; keyboard digits, Enter and Backspace work too);
   - after a success, focus goes back to the scan field so the next scan can follow at once;
   - camera QR scanning where the browser has BarcodeDetector (no library). */
(function () {
  "use strict";

  function scanInput() {
    return document.getElementById("scan");
  }

  /* PIN pad ------------------------------------------------------------------------------------ */

  function setUpPinpads(root) {
    root.querySelectorAll("form.pinpad").forEach(function (form) {
      var keys = form.querySelector("[data-pinpad-keys]");
      var pin = form.querySelector("input[name='pin']");
      if (!keys || !pin || form.dataset.ready) {
        return;
      }
      form.dataset.ready = "true";
      keys.hidden = false;
      /* The on-screen keys replace the device keyboard, which would cover them on a tablet;
         a hardware keyboard or a scanner still types into the field. */
      pin.setAttribute("inputmode", "none");
      keys.addEventListener("click", function (event) {
        var key = event.target.closest("button");
        if (!key) {
          return;
        }
        if (key.dataset.digit !== undefined && pin.value.length < pin.maxLength) {
          pin.value += key.dataset.digit;
        } else if (key.hasAttribute("data-backspace")) {
          pin.value = pin.value.slice(0, -1);
        } else if (key.hasAttribute("data-clear")) {
          pin.value = "";
        }
        pin.focus();
      });
      /* Keyboard digits work even when a key button has the focus. */
      form.addEventListener("keydown", function (event) {
        if (event.target === pin) {
          return;
        }
        if (/^[0-9]$/.test(event.key) && pin.value.length < pin.maxLength) {
          pin.value += event.key;
          event.preventDefault();
        } else if (event.key === "Backspace") {
          pin.value = pin.value.slice(0, -1);
          event.preventDefault();
        } else if (event.key === "Enter") {
          event.preventDefault();
          form.requestSubmit();
        }
      });
    });
  }

  /* A refused PIN (wrong, locked, cooldown...) leaves the pad on screen: empty it for the next try. */
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form.pinpad");
    var pin = form && form.querySelector("input[name='pin']");
    if (pin) {
      pin.value = "";
      pin.focus();
    }
  });

  /* After each swap into the panel ----------------------------------------------------------- */

  document.addEventListener("htmx:afterSwap", function (event) {
    var panel = document.getElementById("cashier-panel");
    if (!panel || event.detail.target !== panel) {
      return;
    }
    setUpPinpads(panel);
    /* A confirmation step (staff picker, PIN pad) is shown whole, Confirm included, from its top:
       below the scan form it would reach past the fold of a phone or a landscape tablet. */
    if (panel.querySelector("form.pinpad, .staff-picker")) {
      panel.scrollIntoView({ block: "start" });
    }
    var scan = scanInput();
    if (scan && panel.querySelector("[data-scan-next]")) {
      scan.value = "";
      scan.focus();
    } else if (scan && panel.querySelector("#card-title, #results-title")) {
      scan.value = "";
    }
  });

  /* Camera ------------------------------------------------------------------------------------- */

  function setUpCamera() {
    var box = document.getElementById("camera");
    if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
      return;
    }
    var toggle = document.getElementById("camera-toggle");
    var video = document.getElementById("camera-video");
    var startLabel = toggle.textContent;
    var stream = null;
    var timer = null;
    var detector = null;

    function stop() {
      if (timer) {
        clearInterval(timer);
      }
      if (stream) {
        stream.getTracks().forEach(function (track) { track.stop(); });
      }
      stream = null;
      timer = null;
      video.hidden = true;
      toggle.textContent = startLabel;
    }

    function found(value) {
      var scan = scanInput();
      stop();
      scan.value = value;
      scan.form.requestSubmit();
    }

    function start() {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (mediaStream) {
          stream = mediaStream;
          video.srcObject = stream;
          video.hidden = false;
          toggle.textContent = toggle.dataset.stopLabel;
          return video.play();
        })
        .then(function () {
          timer = setInterval(function () {
            detector.detect(video).then(function (codes) {
              if (codes.length && stream) {
                found(codes[0].rawValue);
              }
            }).catch(function () { /* a frame that could not be read: try the next one */ });
          }, 300);
        })
        .catch(stop);
    }

    BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") === -1) {
        return;
      }
      detector = new BarcodeDetector({ formats: ["qr_code"] });
      box.hidden = false;
      toggle.addEventListener("click", function () {
        if (stream) {
          stop();
        } else {
          start();
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpPinpads(document);
    setUpCamera();
  });
})();
