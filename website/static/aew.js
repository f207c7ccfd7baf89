/* The course's widgets on the website, without a kernel.
 *
 * helpers/web.py writes, for each widget a notebook shows, a <figure class="aew"> holding its
 * data as JSON. This script turns each one into a player:
 *   - "frames": pictures the widget drew at build time for each setting of its controls; the
 *     controls pick one (a keyboard-usable <input type="range">, <select> or radio group);
 *   - "decoder": a latent explorer; the decoder's float16 weights come with the page and the
 *     forward pass (Linear layers, ReLU, sigmoid) runs here, drawing the digit on a canvas.
 * No framework, no network: everything it needs is in the page and the site's folder.
 */
(function () {
  "use strict";
  var AEW = (window.AEW = window.AEW || {});
  AEW.decoders = {};   // widget id -> {decode(z1, z2) -> Float32Array(784), redraw(...)}
  AEW.timings = [];    // ms from each slider event to the digit drawn (read by the benchmark)

  function make(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* A labelled control over the positions 0..n-1 of `values` (strings to show).
   * Returns {element, input(s), set(position), enable(positions allowed)}. */
  function control(id, spec, onChange) {
    var box = make("div", { class: "aew-control" });
    if (spec.kind === "choice" && spec.values.length <= 4) {
      // a few choices: radio buttons, as JupyterLab's toggle buttons (arrow keys move them)
      var group = make("fieldset", { class: "aew-radios" });
      group.appendChild(make("legend", {}, spec.label));
      var radios = spec.values.map(function (value, i) {
        var label = make("label");
        var radio = make("input", { type: "radio", name: id, value: String(i) });
        radio.addEventListener("change", function () { if (radio.checked) onChange(i); });
        label.appendChild(radio);
        label.appendChild(document.createTextNode(" " + value));
        group.appendChild(label);
        return radio;
      });
      box.appendChild(group);
      return {
        element: box, inputs: radios,
        set: function (i) { radios[i].checked = true; },
        enable: function (allowed) { radios.forEach(function (r, i) { r.disabled = !allowed[i]; }); }
      };
    }
    var label = make("label", { for: id }, spec.label);
    box.appendChild(label);
    if (spec.kind === "choice") {
      var select = make("select", { id: id });
      spec.values.forEach(function (value, i) { select.appendChild(make("option", { value: String(i) }, value)); });
      select.addEventListener("change", function () { onChange(Number(select.value)); });
      box.appendChild(select);
      return {
        element: box, inputs: [select],
        set: function (i) { select.value = String(i); },
        enable: function (allowed) {
          Array.prototype.forEach.call(select.options, function (o, i) { o.disabled = !allowed[i]; });
          select.disabled = allowed.filter(Boolean).length < 2;
        }
      };
    }
    // a range over the positions; the value it stands for is shown beside it and read out
    var range = make("input", { type: "range", id: id, min: "0", max: String(spec.values.length - 1), step: "1" });
    var output = make("output", { for: id });
    range.addEventListener("input", function () { onChange(Number(range.value)); });
    box.appendChild(range);
    box.appendChild(output);
    return {
      element: box, inputs: [range],
      set: function (i) {
        range.value = String(i);
        range.setAttribute("aria-valuetext", spec.values[i]);
        output.textContent = spec.values[i];
      },
      enable: function (allowed) { range.disabled = allowed.filter(Boolean).length < 2; }
    };
  }

  /* Frames: state = one position per control; a frame exists for some combinations. */
  function framesPlayer(root, data) {
    var state = data.controls.map(function (c) { return c.start; });
    var pictures = root.querySelectorAll("img.aew-picture");
    var texts = root.querySelector(".aew-texts");
    var box = root.querySelector(".aew-controls");
    var controls = data.controls.map(function (spec, k) {
      var c = control(root.id + "-" + spec.name, spec, function (i) { choose(k, i); });
      box.appendChild(c.element);
      return c;
    });

    function keyOf(positions) { return positions.join(","); }

    // somewhere[k][i]: some frame has control k at position i
    var somewhere = data.controls.map(function (spec) { return spec.values.map(function () { return false; }); });
    Object.keys(data.frames).forEach(function (key) {
      key.split(",").forEach(function (p, k) { somewhere[k][Number(p)] = true; });
    });

    // Control k moved to i: show that frame, or, if that combination was not precomputed,
    // the frame with control k at i that keeps most other controls where they are.
    function choose(k, i) {
      var wanted = state.slice();
      wanted[k] = i;
      var key = keyOf(wanted);
      if (!(key in data.frames)) {
        var best = -1;
        Object.keys(data.frames).forEach(function (candidate) {
          var positions = candidate.split(",").map(Number);
          if (positions[k] !== i) return;
          var score = positions.filter(function (p, j) { return p === state[j]; }).length;
          if (score > best) { best = score; key = candidate; }
        });
        if (best < 0) return;
      }
      state = key.split(",").map(Number);
      show();
    }

    function show() {
      var frame = data.frames[keyOf(state)];
      frame.img.forEach(function (src, n) {
        pictures[n].src = data.srcs[src];
        pictures[n].alt = data.alts[frame.alt];
      });
      texts.innerHTML = frame.html.map(function (h) {
        return '<div class="aew-html">' + data.htmls[h] + "</div>";
      }).join("");
      controls.forEach(function (c, k) {
        c.set(state[k]);
        // A slider is usable if it has two positions with every other control as it is now;
        // a choice offers every value some frame has (choosing one may move other controls,
        // as `choose` says).
        c.enable(data.controls[k].values.map(function (_, i) {
          if (data.controls[k].kind === "choice") return somewhere[k][i];
          var positions = state.slice();
          positions[k] = i;
          return keyOf(positions) in data.frames;
        }));
      });
    }
    show();
  }

  /* ---- the browser decoder ---- */

  var halfToFloat = null;   // all 65536 float16 bit patterns as float32, made once
  function float16Table() {
    if (halfToFloat) return halfToFloat;
    halfToFloat = new Float32Array(65536);
    for (var h = 0; h < 65536; h++) {
      var sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
      halfToFloat[h] = exponent === 0 ? sign * Math.pow(2, -14) * (fraction / 1024)
        : exponent === 31 ? (fraction ? NaN : sign * Infinity)
        : sign * Math.pow(2, exponent - 15) * (1 + fraction / 1024);
    }
    return halfToFloat;
  }

  function unpack(blob, count) {
    // base64 -> float16 (little-endian) -> Float32Array
    var bytes = atob(blob), table = float16Table(), out = new Float32Array(count);
    for (var i = 0; i < count; i++) out[i] = table[bytes.charCodeAt(2 * i) | (bytes.charCodeAt(2 * i + 1) << 8)];
    return out;
  }

  function loadLayers(specs) {
    var blobs = window.AEW_WEIGHTS || {};
    return specs.map(function (layer) {
      if (layer.kind !== "Linear") return layer;
      var all = unpack(blobs[layer.blob], layer.in * layer.out + layer.out);
      return { kind: "Linear", in: layer.in, out: layer.out,
               weight: all.subarray(0, layer.in * layer.out), bias: all.subarray(layer.in * layer.out) };
    });
  }

  // The forward pass: x -> W x + b, activations between; the result clamped to [0, 1] as the
  // widget's own decode does.
  function forward(layers, z) {
    var x = Float32Array.from(z);
    layers.forEach(function (layer) {
      if (layer.kind === "Linear") {
        var y = new Float32Array(layer.out), w = layer.weight, n = layer.in;
        for (var o = 0; o < layer.out; o++) {
          var sum = layer.bias[o], row = o * n;
          for (var i = 0; i < n; i++) sum += w[row + i] * x[i];
          y[o] = sum;
        }
        x = y;
      } else if (layer.kind === "ReLU") {
        for (var r = 0; r < x.length; r++) if (x[r] < 0) x[r] = 0;
      } else if (layer.kind === "Sigmoid") {
        for (var s = 0; s < x.length; s++) x[s] = 1 / (1 + Math.exp(-x[s]));
      } else if (layer.kind === "Tanh") {
        for (var t = 0; t < x.length; t++) x[t] = Math.tanh(x[t]);
      }
    });
    for (var c = 0; c < x.length; c++) x[c] = Math.min(1, Math.max(0, x[c]));
    return x;
  }

  function pythonFormat(format, values) {
    // the caption's "{:.2f}" places, filled in order
    var n = 0;
    return format.replace(/\{:\.(\d)f\}/g, function (_, digits) { return values[n++].toFixed(Number(digits)); });
  }

  function decoderPlayer(root, data) {
    var canvas = root.querySelector("canvas.aew-canvas");
    var context = canvas.getContext("2d");
    var digit = make("canvas", { width: "28", height: "28" });      // off-screen, one pixel per pixel
    var digitContext = digit.getContext("2d");
    var pixels = digitContext.createImageData(28, 28);
    var layers = loadLayers(data.layers);
    var background = new Image();
    var box = root.querySelector(".aew-controls");
    var z = data.sliders.map(function (s) { return s.value; });
    var digits = data.sliders.map(function (s) { var m = /\.(\d)f/.exec(s.format); return m ? Number(m[1]) : 2; });

    var sliders = data.sliders.map(function (spec, k) {
      var id = root.id + "-z" + (k + 1);
      var wrap = make("div", { class: "aew-control" });
      wrap.appendChild(make("label", { for: id }, spec.label));
      var range = make("input", { type: "range", id: id, min: String(spec.min), max: String(spec.max),
                                   step: String(spec.step), value: String(spec.value) });
      var output = make("output", { for: id }, spec.value.toFixed(digits[k]));
      range.addEventListener("input", function (event) {
        z[k] = Number(range.value);
        output.textContent = z[k].toFixed(digits[k]);
        draw();
        AEW.timings.push(performance.now() - event.timeStamp);
      });
      wrap.appendChild(range);
      wrap.appendChild(output);
      box.appendChild(wrap);
      range.value = String(spec.value);   // set after min/max/step, so it is not snapped early
      return range;
    });

    function decode(z1, z2) { return forward(layers, [z1, z2]); }

    function draw() {
      var image = decode(z[0], z[1]);
      for (var p = 0; p < 784; p++) {
        var grey = Math.round(image[p] * 255);
        pixels.data[4 * p] = pixels.data[4 * p + 1] = pixels.data[4 * p + 2] = grey;
        pixels.data[4 * p + 3] = 255;
      }
      digitContext.putImageData(pixels, 0, 0);
      context.drawImage(background, 0, 0, canvas.width, canvas.height);
      context.imageSmoothingEnabled = false;                 // square pixels, as matplotlib draws them
      var b = data.image_box;
      context.drawImage(digit, b[0], b[1], b[2], b[3]);
      // the cross at z on the scatter of codes
      var a = data.axes;
      var x = a.x[0] + (z[0] - a.xlim[0]) / (a.xlim[1] - a.xlim[0]) * (a.x[1] - a.x[0]);
      var y = a.y[0] + (z[1] - a.ylim[0]) / (a.ylim[1] - a.ylim[0]) * (a.y[1] - a.y[0]);
      var r = data.marker_size / 2;
      context.lineCap = "round";
      [["white", r * 0.75], ["black", r * 0.45]].forEach(function (stroke) {
        context.strokeStyle = stroke[0];
        context.lineWidth = stroke[1];
        context.beginPath();
        context.moveTo(x - r * 0.7, y - r * 0.7); context.lineTo(x + r * 0.7, y + r * 0.7);
        context.moveTo(x - r * 0.7, y + r * 0.7); context.lineTo(x + r * 0.7, y - r * 0.7);
        context.stroke();
      });
      // the caption over the digit
      var c = data.caption, lines = pythonFormat(c.format, z).split("\n");
      context.fillStyle = "black";
      context.textAlign = "center";
      context.textBaseline = "alphabetic";
      context.font = c.size + "px 'DejaVu Sans', sans-serif";
      lines.forEach(function (line, n) {
        context.fillText(line, c.x, c.bottom - (lines.length - 1 - n) * c.size * 1.2 - c.size * 0.25);
      });
      canvas.setAttribute("aria-label", data.alt + " The digit decoded from " + lines.join(" ") + ".");
      return image;
    }

    AEW.decoders[root.id] = {
      decode: function (z1, z2) { return Array.from(decode(z1, z2)); },
      sliders: sliders
    };
    background.onload = draw;
    background.src = data.background;
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("figure.aew"), function (root) {
      var script = root.querySelector("script.aew-data");
      if (!script) return;
      var data = JSON.parse(script.textContent);
      if (data.form === "frames") framesPlayer(root, data);
      else if (data.form === "decoder") decoderPlayer(root, data);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
