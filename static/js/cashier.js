/* The cashier screen's progressive enhancements (everything works without them):
   - the touch PIN pad (digits masked; keyboard digits, Enter and Backspace work too);
   - after a success, focus goes back to the scan field so the next scan can follow at once;
   - a scanner's burst of keys always starts a new lookup, wherever the focus is;
   - camera QR scanning in every browser with a camera API (BarcodeDetector or the vendored jsQR). */
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

  /* Scanner bursts ---------------------------------------------------------------------------- */

  /* A USB or Bluetooth scanner is a keyboard that types a whole code in a few milliseconds and
     presses Enter. Wherever the focus is (the PIN field, a button of the card, the amount), such a
     burst is a new card: it goes to the scan field and is looked up. It is never typed into the PIN
     (that would cost a PIN attempt) and its Enter never confirms anything on the previous card.
     A PIN has at most 8 digits, and nobody types 9 characters 80 ms apart; a scanner always does. */
  var SCAN_GAP_MS = 80;
  var SCAN_MIN_LENGTH = 9;
  var burst = { chars: "", last: 0, snapshot: [] };

  function typedFields() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#cashier-panel input:not([type='hidden'])"));
  }

  function startBurst(now) {
    burst.chars = "";
    burst.snapshot = typedFields().map(function (field) { return [field, field.value]; });
    burst.last = now;
  }

  document.addEventListener("keydown", function (event) {
    var scan = scanInput();
    if (!scan || event.target === scan || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var now = event.timeStamp || performance.now();
    if (event.key.length === 1) {
      if (now - burst.last > SCAN_GAP_MS) {
        startBurst(now);
      }
      burst.chars += event.key;
      burst.last = now;
      return;
    }
    if ((event.key === "Enter" || event.key === "Tab") && burst.chars.length >= SCAN_MIN_LENGTH &&
        now - burst.last <= SCAN_GAP_MS * 2) {
      event.preventDefault();
      event.stopImmediatePropagation();
      /* Take back what the burst typed into the PIN or amount field. */
      burst.snapshot.forEach(function (pair) { pair[0].value = pair[1]; });
      scan.value = burst.chars;
      burst.chars = "";
      scan.focus();
      scan.form.requestSubmit();
    }
  }, true);

  /* A new lookup starts clean: no refusal of the previous card stays next to it. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var scan = scanInput();
    var messages = document.getElementById("messages");
    if (scan && event.detail.elt === scan.form && messages) {
      messages.innerHTML = "";
    }
  });

  /* Camera ------------------------------------------------------------------------------------- */

  /* getUserMedia exists on https pages and on localhost in Safari (iPad, iPhone), Firefox and
     Chrome. QR codes are read by BarcodeDetector where the browser has it for QR codes, and by
     jsQR (static/vendor/jsqr) everywhere else, from frames drawn on a canvas. */
  var cameraWasUsed = false;

  function setUpCamera() {
    var box = document.getElementById("camera");
    if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return;
    }
    var toggle = document.getElementById("camera-toggle");
    var video = document.getElementById("camera-video");
    var refused = document.getElementById("camera-refused");
    var startLabel = toggle.textContent;
    var stream = null;
    var timer = null;
    var detector = null;
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });

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
      cameraWasUsed = true;
      scan.value = value;
      scan.form.requestSubmit();
    }

    function readWithJsQR() {
      if (!window.jsQR || !video.videoWidth) {
        return Promise.resolve(null);
      }
      /* A frame of at most 640 px wide is plenty for a QR code on a phone screen. */
      var scale = Math.min(1, 640 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      return Promise.resolve(code ? code.data : null);
    }

    function readFrame() {
      if (detector) {
        return detector.detect(video).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        });
      }
      return readWithJsQR();
    }

    function start() {
      refused.hidden = true;
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (mediaStream) {
          stream = mediaStream;
          video.srcObject = stream;
          video.hidden = false;
          toggle.textContent = toggle.dataset.stopLabel;
          return video.play();
        })
        .then(function () {
          var busy = false;
          timer = setInterval(function () {
            if (busy || !stream) {
              return;
            }
            busy = true;
            readFrame().then(function (value) {
              busy = false;
              if (value && stream) {
                found(value);
              }
            }).catch(function () { busy = false; /* an unreadable frame: try the next one */ });
          }, 250);
        })
        .catch(function () {
          stop();
          cameraWasUsed = false;
          refused.hidden = false;
        });
    }
    setUpCamera.start = start;

    function enable() {
      box.hidden = false;
      toggle.addEventListener("click", function () {
        if (stream) {
          stop();
          cameraWasUsed = false;
        } else {
          start();
        }
      });
    }

    if ("BarcodeDetector" in window && BarcodeDetector.getSupportedFormats) {
      BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") !== -1) {
          detector = new BarcodeDetector({ formats: ["qr_code"] });
        }
      }).catch(function () { detector = null; }).then(enable);
    } else {
      enable();
    }
  }

  /* After a result, a cashier who scans with the camera gets it back for the next card. */
  document.addEventListener("htmx:afterSwap", function (event) {
    var panel = document.getElementById("cashier-panel");
    if (cameraWasUsed && panel && event.detail.target === panel &&
        panel.querySelector(".result[data-scan-next]") && setUpCamera.start) {
      setUpCamera.start();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpPinpads(document);
    setUpCamera();
  });
})();
