/* The course's widgets on the website, without a kernel.
 *
 * website/export.py writes, for each widget a notebook shows, a <figure class="aew"> holding
 * its data as JSON. This script turns each one into a player:
 *   - "frames": pictures the widget drew at build time for each setting of its controls; the
 *     controls pick one (a keyboard-usable <input type="range">, <select> or radio group);
 *   - "decoder": a latent explorer; the forward pass (Linear layers, ReLU, sigmoid) runs here
 *     on the decoder's weights (int8 or float16), drawing the digit on a canvas;
 *   - "drawing": a drawing pad (pointer: mouse, pen or finger) and the view of notebook 01, 02
 *     or 06 beside it; the drawing is prepared as helpers/drawing.py does (`prepareDigit`, with
 *     that module's constants from the page's data) and the view's networks run here, with the
 *     same forward pass as the decoders (`runNetwork`).
 * A network's weights are a binary file of the site, fetched (once per page, whatever number of
 * widgets run it) when its widget comes near the screen or is first used; the widget says that
 * it is loading meanwhile. Every word the players show comes from the page's data (templates
 * written in Python, filled in by `format`): none is written here.
 * No framework, nothing from another host: everything it needs is in the site's folder.
 */
(function () {
  "use strict";
  var AEW = (window.AEW = window.AEW || {});
  AEW.decoders = {};   // widget id -> {decode(z1, z2) -> Float32Array(784), redraw(...)}
  AEW.timings = [];    // ms from each slider event to the digit drawn (read by the benchmark)
  AEW.drawings = {};   // widget id -> {compute(digit, setting), drawStrokes(strokes), ...}
  AEW.drawTimings = []; // ms from each pen lift (or button) to the view redrawn

  // Python's str.format for the templates the page's data carries: {name}, {name:.2f},
  // {name:.0%}, and {} or {:.2f} filled in order from an array.
  function format(template, values) {
    var n = 0;
    return template.replace(/\{(\w*)(?::\.(\d+)([f%]))?\}/g, function (_, name, digits, type) {
      var value = name === "" ? values[n++] : values[name];
      if (type === "f") return Number(value).toFixed(Number(digits));
      if (type === "%") return (100 * value).toFixed(Number(digits)) + "%";
      return String(value);
    });
  }

  // Pixels are clamped to the course's range, [0, 1] (helpers.drawing.PIXEL_RANGE, in the data).
  function clamp(value, range) { return Math.min(range[1], Math.max(range[0], value)); }
  function clampAll(x, range) {
    for (var c = 0; c < x.length; c++) x[c] = clamp(x[c], range);
    return x;
  }

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

    // first: the page already shows the starting frame (website/export.py writes it into the
    // markup); only the controls are set.
    function show(first) {
      var frame = data.frames[keyOf(state)];
      if (!first) {
        frame.img.forEach(function (src, n) {
          pictures[n].src = data.srcs[src];
          pictures[n].alt = data.alts[frame.alt];
        });
        texts.innerHTML = frame.html.map(function (h) {
          return '<div class="aew-html">' + data.htmls[h] + "</div>";
        }).join("");
      }
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
    show(true);
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

  // A network's file (website/export.py's _network_file) -> layers with Float32Array weights.
  // Each Linear is at the offset its layer gives, in its format (website/export.py's FORMATS):
  // "float16": its weight then its bias, float16 little-endian; "int8": its weight as int8,
  // then one float32 scale per row (weight = int8 * scale), then its float32 bias.
  function layersFrom(spec, buffer) {
    var view = new DataView(buffer);
    return spec.layers.map(function (layer) {
      if (layer.kind !== "Linear") return layer;
      var n = layer.in * layer.out, weight = new Float32Array(n), bias = new Float32Array(layer.out), i;
      if (layer.format === "float16") {
        var table = float16Table();
        for (i = 0; i < n; i++) weight[i] = table[view.getUint16(layer.offset + 2 * i, true)];
        for (i = 0; i < layer.out; i++) bias[i] = table[view.getUint16(layer.offset + 2 * (n + i), true)];
      } else if (layer.format === "int8") {
        var scales = layer.offset + n, biases = scales + 4 * layer.out;
        for (var o = 0; o < layer.out; o++) {
          var scale = view.getFloat32(scales + 4 * o, true), row = o * layer.in;
          for (i = 0; i < layer.in; i++) weight[row + i] = view.getInt8(layer.offset + row + i) * scale;
          bias[o] = view.getFloat32(biases + 4 * o, true);
        }
      } else {
        throw new Error(spec.url + ": unknown format " + layer.format);
      }
      return { kind: "Linear", in: layer.in, out: layer.out, weight: weight, bias: bias };
    });
  }

  var networks = {};   // url -> the promise of its layers: each network is fetched once per page
  function fetchNetwork(spec) {
    if (!networks[spec.url]) {
      networks[spec.url] = fetch(spec.url).then(function (response) {
        if (!response.ok) throw new Error(spec.url + ": " + response.status);
        return response.arrayBuffer();
      }).then(function (buffer) { return layersFrom(spec, buffer); });
    }
    return networks[spec.url];
  }

  function fetchJSON(spec) {
    return fetch(spec.url).then(function (response) {
      if (!response.ok) throw new Error(spec.url + ": " + response.status);
      return response.json();
    });
  }

  function fetchImage(src) {
    return new Promise(function (resolve, reject) {
      var image = new Image();
      image.onload = function () { resolve(image); };
      image.onerror = function () { reject(new Error(src + " did not load")); };
      image.src = src;
    });
  }

  /* Load what a widget needs (`load`, returning a promise) when it comes near the screen or
   * is first used, whichever is first, once; meanwhile its status line says so. Returns
   * start(): the promise of what `load` gives (null if it failed; the status line says why). */
  function lazily(root, data, load) {
    var status = root.querySelector(".aew-status"), promise = null;
    function start() {
      if (promise) return promise;
      root.setAttribute("data-aew-state", "loading");
      status.textContent = format(data.words.loading, { size: data.download });
      promise = load().then(function (value) {
        root.setAttribute("data-aew-state", "ready");
        status.textContent = "";
        return value;
      }, function (error) {
        root.setAttribute("data-aew-state", "failed");
        status.textContent = format(data.words.failed, { error: error.message }) +
          (location.protocol === "file:" ? " " + data.words.file : "");
        return null;
      });
      return promise;
    }
    if ("IntersectionObserver" in window) {
      var observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) { observer.disconnect(); start(); }
      }, { rootMargin: "400px 0px" });
      observer.observe(root);
    } else {
      start();
    }
    root.addEventListener("focusin", start);
    root.addEventListener("pointerdown", start);
    return start;
  }

  // A network's forward pass: x -> W x + b, activations between (what website/export.py's
  // run_layers computes in NumPy). Every network of every widget runs through here.
  function runNetwork(layers, input) {
    var x = Float32Array.from(input);
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
    return x;
  }

  // The cross of the latent explorers (matplotlib's "X" marker): white outline, black inside.
  function drawCross(context, x, y, size) {
    var r = size / 2;
    context.lineCap = "round";
    [["white", r * 0.75], ["black", r * 0.45]].forEach(function (stroke) {
      context.strokeStyle = stroke[0];
      context.lineWidth = stroke[1];
      context.beginPath();
      context.moveTo(x - r * 0.7, y - r * 0.7); context.lineTo(x + r * 0.7, y + r * 0.7);
      context.moveTo(x - r * 0.7, y + r * 0.7); context.lineTo(x + r * 0.7, y - r * 0.7);
      context.stroke();
    });
  }

  // Lines of text centred at slot.x, the last line's bottom at slot.bottom (a matplotlib title).
  function writeLines(context, slot, text) {
    var lines = text.split("\n");
    context.fillStyle = "black";
    context.textAlign = "center";
    context.textBaseline = "alphabetic";
    context.font = slot.size + "px 'DejaVu Sans', sans-serif";
    lines.forEach(function (line, n) {
      context.fillText(line, slot.x, slot.bottom - (lines.length - 1 - n) * slot.size * 1.2 - slot.size * 0.25);
    });
    return lines;
  }

  // data coordinates of axes `a` (website/export.py's _axes_map) -> canvas pixels
  function toPixels(a, x, y) {
    return [a.x[0] + (x - a.xlim[0]) / (a.xlim[1] - a.xlim[0]) * (a.x[1] - a.x[0]),
            a.y[0] + (y - a.ylim[0]) / (a.ylim[1] - a.ylim[0]) * (a.y[1] - a.y[0])];
  }

  function decoderPlayer(root, data) {
    var canvas = root.querySelector("canvas.aew-canvas");
    var context = canvas.getContext("2d");
    var digit = make("canvas", { width: "28", height: "28" });      // off-screen, one pixel per pixel
    var digitContext = digit.getContext("2d");
    var pixels = digitContext.createImageData(28, 28);
    var layers = null, background = null;      // fetched when the widget comes near the screen
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

    // the decoder's image, clamped as the widget's own decode does
    function decode(z1, z2) { return clampAll(runNetwork(layers, [z1, z2]), data.pixels); }

    function draw() {
      if (!layers) return null;
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
      // the cross at z on the scatter of codes, the caption over the digit
      var at = toPixels(data.axes, z[0], z[1]);
      drawCross(context, at[0], at[1], data.marker_size);
      var lines = writeLines(context, data.caption, format(data.caption.template, z));
      canvas.setAttribute("aria-label", format(data.words.decoded, { alt: data.alt, caption: lines.join(" ") }));
      return image;
    }

    var load = lazily(root, data, function () {
      return Promise.all([fetchNetwork(data.network), fetchImage(data.background)]).then(function (both) {
        layers = both[0];
        background = both[1];
        draw();
      });
    });
    AEW.decoders[root.id] = {
      load: load,                 // the promise of the decoder, ready
      decode: function (z1, z2) { return Array.from(decode(z1, z2)); },
      sliders: sliders
    };
  }

  /* ---- a drawn digit, prepared as MNIST's digits were (helpers/drawing.py, step by step) ---- */

  function roundHalfUp(x) { return Math.floor(x + 0.5); }

  // New pixel i covers old coordinates [i * scale, (i + 1) * scale): for each, the first old
  // pixel it touches and the share of each old pixel it covers (divided by scale: they sum to 1).
  function areaWeights(nOld, nNew) {
    var scale = nOld / nNew, rows = [];
    for (var i = 0; i < nNew; i++) {
      var a = i * scale, b = a + scale, first = Math.floor(a), weights = [];
      for (var j = first; j < Math.min(nOld, Math.ceil(b)); j++) {
        weights.push(Math.max(0, Math.min(b, j + 1) - Math.max(a, j)) / scale);
      }
      rows.push({ first: first, weights: weights });
    }
    return rows;
  }

  // helpers.drawing.area_resize: (h, w) -> (newH, newW) by area averaging
  function areaResize(image, h, w, newH, newW) {
    var across = areaWeights(w, newW), down = areaWeights(h, newH);
    var middle = new Float64Array(h * newW), out = new Float64Array(newH * newW);
    for (var r = 0; r < h; r++) {
      for (var c = 0; c < newW; c++) {
        var col = across[c], sum = 0;
        for (var k = 0; k < col.weights.length; k++) sum += image[r * w + col.first + k] * col.weights[k];
        middle[r * newW + c] = sum;
      }
    }
    for (var i = 0; i < newH; i++) {
      var row = down[i];
      for (var c2 = 0; c2 < newW; c2++) {
        var total = 0;
        for (var k2 = 0; k2 < row.weights.length; k2++) total += middle[(row.first + k2) * newW + c2] * row.weights[k2];
        out[i * newW + c2] = total;
      }
    }
    return out;
  }

  // helpers.drawing.prepare_digit: ink (height x width, 1 = ink) -> FRAME x FRAME digit, or
  // null when there is no ink. 1. bounding box of the pixels above the ink threshold; 2. scaled
  // so its longer side is BOX, by area averaging; 3. its centre of mass put at the centre of the
  // frame. `prep`: that module's constants, {box, frame, threshold, pixels}, from the page's data.
  function prepareDigit(ink, height, width, prep) {
    var BOX = prep.box, FRAME = prep.frame, INK_THRESHOLD = prep.threshold;
    var top = height, bottom = -1, left = width, right = -1;
    for (var r = 0; r < height; r++) {
      for (var c = 0; c < width; c++) {
        if (ink[r * width + c] > INK_THRESHOLD) {
          if (r < top) top = r;
          if (r > bottom) bottom = r;
          if (c < left) left = c;
          if (c > right) right = c;
        }
      }
    }
    if (bottom < 0) return null;
    var h = bottom - top + 1, w = right - left + 1, crop = new Float64Array(h * w);
    for (var i = 0; i < h; i++) {
      for (var j = 0; j < w; j++) crop[i * w + j] = clamp(ink[(top + i) * width + left + j], prep.pixels);
    }
    var longest = Math.max(h, w);
    var newH = Math.max(1, roundHalfUp(h * BOX / longest)), newW = Math.max(1, roundHalfUp(w * BOX / longest));
    var box = areaResize(crop, h, w, newH, newW);
    var mass = 0, rowMoment = 0, colMoment = 0;
    for (var y = 0; y < newH; y++) {
      for (var x = 0; x < newW; x++) {
        var v = box[y * newW + x];
        mass += v; rowMoment += y * v; colMoment += x * v;
      }
    }
    var y0 = Math.min(Math.max(roundHalfUp(FRAME / 2 - rowMoment / mass), 0), FRAME - newH);
    var x0 = Math.min(Math.max(roundHalfUp(FRAME / 2 - colMoment / mass), 0), FRAME - newW);
    var digit = new Float32Array(FRAME * FRAME);
    for (var p = 0; p < newH; p++) {
      for (var q = 0; q < newW; q++) digit[(y0 + p) * FRAME + x0 + q] = clamp(box[p * newW + q], prep.pixels);
    }
    return digit;
  }

  /* A drawing pad: white ink on black, round pen; pointer events (mouse, pen, finger). Calls
   * onDigit(digit or null, eventTime) when the pen is lifted, the pad cleared or an example drawn.
   * spec: data.pad (its size, pen, the preparation's constants, the buttons' words). */
  function drawingPad(root, spec, words, onDigit) {
    var canvas = root.querySelector("canvas.aew-pad-canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var size = spec.size, erasing = false, stroke = null;
    var buttons = root.querySelector(".aew-pad-buttons");

    function setStyle(width, erase) {
      context.fillStyle = context.strokeStyle = erase ? "black" : "white";
      context.lineWidth = width;
      context.lineCap = context.lineJoin = "round";
    }
    function dot(x, y, width) {
      context.beginPath();
      context.arc(x, y, width / 2, 0, 2 * Math.PI);
      context.fill();
    }
    function blank() {
      context.fillStyle = "black";
      context.fillRect(0, 0, size, size);
    }
    function ink() {
      var rgba = context.getImageData(0, 0, size, size).data, out = new Float32Array(size * size);
      for (var i = 0; i < out.length; i++) out[i] = rgba[4 * i] / 255;   // the red channel
      return out;
    }
    function changed(time) { onDigit(prepareDigit(ink(), size, size, spec), time); }

    // strokes from code ({points: [[x, y], ...], width, erase}): the example buttons, the tests
    function drawStrokes(strokes) {
      strokes.forEach(function (s) {
        setStyle(s.width, s.erase);
        context.beginPath();
        context.moveTo(s.points[0][0], s.points[0][1]);
        s.points.slice(1).forEach(function (p) { context.lineTo(p[0], p[1]); });
        if (s.points.length > 1) context.stroke();
        dot(s.points[0][0], s.points[0][1], s.width);
      });
    }
    // a 28x28 digit (0-255), each pixel a square, as DrawingPad.load_digit
    function loadDigit(pixels) {
      var small = make("canvas", { width: "28", height: "28" }), smallContext = small.getContext("2d");
      var image = smallContext.createImageData(28, 28);
      for (var p = 0; p < 784; p++) {
        image.data[4 * p] = image.data[4 * p + 1] = image.data[4 * p + 2] = pixels[p];
        image.data[4 * p + 3] = 255;
      }
      smallContext.putImageData(image, 0, 0);
      context.imageSmoothingEnabled = false;
      context.drawImage(small, 0, 0, size, size);
    }

    function position(event) {
      var box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * size / box.width, (event.clientY - box.top) * size / box.height];
    }
    canvas.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "mouse" && event.button !== 0) return;
      event.preventDefault();
      ready();
      try { canvas.setPointerCapture(event.pointerId); } catch (error) { /* a pointer already gone */ }
      var p = position(event);
      stroke = { last: p, width: erasing ? spec.eraser : spec.pen };
      setStyle(stroke.width, erasing);
      dot(p[0], p[1], stroke.width);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!stroke) return;
      event.preventDefault();
      var p = position(event);
      context.beginPath();
      context.moveTo(stroke.last[0], stroke.last[1]);
      context.lineTo(p[0], p[1]);
      context.stroke();
      stroke.last = p;
    });
    function penUp(event) {
      if (!stroke) return;
      stroke = null;
      changed(event.timeStamp);
    }
    canvas.addEventListener("pointerup", penUp);
    canvas.addEventListener("pointercancel", penUp);

    function button(text, onClick, pressed) {
      var b = make("button", { type: "button", class: "aew-button" }, text);
      if (pressed !== undefined) b.setAttribute("aria-pressed", String(pressed));
      b.addEventListener("click", function (event) { ready(); onClick(event); });
      buttons.appendChild(b);
      return b;
    }
    var pen = button(spec.buttons.pen, function () { useEraser(false); }, true);
    var eraser = button(spec.buttons.eraser, function () { useEraser(true); }, false);
    button(spec.buttons.clear, function (event) { blank(); changed(event.timeStamp); });
    function useEraser(on) {
      erasing = on;
      pen.setAttribute("aria-pressed", String(!on));
      eraser.setAttribute("aria-pressed", String(on));
    }
    buttons.appendChild(make("span", { class: "aew-small" }, words.examples));
    spec.examples.forEach(function (example) {
      var b = button(example.name, function (event) { blank(); drawStrokes(example.strokes); changed(event.timeStamp); });
      b.setAttribute("aria-label", format(words.example, { name: example.name }));
    });

    // The first drawing on the canvas waits until the widget is near the screen (or used): a
    // canvas drawn while the page is still being laid out makes the browser compute the style
    // of the whole page at once, in one long task before the reader can scroll. Until then
    // the pad is the black square its stylesheet paints.
    var started = false;
    function ready() {
      if (started) return;
      started = true;
      blank();
      if (spec.start) loadDigit(spec.start);
    }
    return {
      ready: ready, canvas: canvas, ink: ink, changed: changed,
      drawStrokes: function (strokes) { ready(); blank(); drawStrokes(strokes); changed(performance.now()); },
      clear: function () { ready(); blank(); changed(performance.now()); }
    };
  }

  /* The views beside the pad: what each computes (as its Python class's `compute`, the same
   * keys) and what it paints over the figure's background. Their words are the Python class's
   * TEXTS (data.templates), filled in with `format`. */

  function meanSquare(a, b) {
    var sum = 0;
    for (var i = 0; i < a.length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
    return sum / a.length;
  }

  function softmax(x) {
    var top = Math.max.apply(null, Array.from(x)), sum = 0, out = new Float64Array(x.length);
    for (var i = 0; i < x.length; i++) { out[i] = Math.exp(x[i] - top); sum += out[i]; }
    for (var j = 0; j < x.length; j++) out[j] /= sum;
    return out;
  }

  // helpers.corruption.corrupt, on the random numbers it draws with the view's seed (`random`:
  // uniform, uniform2, normal; data.salt_share: salt_and_pepper's coin; `range`: the pixels').
  function corrupt(kind, level, digit, random, saltShare, range) {
    var noisy = new Float32Array(digit.length);
    level = Math.fround(level);               // torch compares in float32
    for (var p = 0; p < digit.length; p++) {
      if (kind === "masking") noisy[p] = random.uniform[p] >= level ? digit[p] : 0;
      else if (kind === "gaussian") noisy[p] = clamp(digit[p] + level * random.normal[p], range);
      else if (kind === "salt-and-pepper") noisy[p] = random.uniform[p] < level ? (random.uniform2[p] < saltShare ? range[1] : range[0]) : digit[p];
      else throw new Error("unknown noise " + kind);
    }
    return noisy;
  }

  // keyed by the name each view's web_parts() declares
  var VIEWS = {
    code: {
      compute: function (data, nets, digit) {
        var T = data.templates;
        var code = runNetwork(nets.encoder, digit);
        var reconstruction = clampAll(runNetwork(nets.decoder, code), data.pixels);
        var codes = data.codes, order = codes.map(function (c, i) {
          return [(c[0] - code[0]) * (c[0] - code[0]) + (c[1] - code[1]) * (c[1] - code[1]), i];
        });
        order.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });   // stable, as NumPy's
        var neighbours = order.slice(0, data.n_neighbours).map(function (o) { return o[1]; });
        var error = meanSquare(reconstruction, digit);
        var names = neighbours.map(function (i) { return data.class_names[data.labels[i]]; });
        return { digit: digit, code: code, reconstruction: reconstruction, error: error, neighbours: neighbours,
                 text: format(T.text, { z1: code[0], z2: code[1], error: error, names: names.join(T.separator) }) };
      },
      paint: function (view, data, result) {
        var ctx = view.context, T = data.templates;
        view.digit(result ? result.digit : null, data.images.digit);
        view.digit(result ? result.reconstruction : null, data.images.reconstruction);
        writeLines(ctx, data.texts.reconstruction, result ? format(T.reconstruction, result) : T.reconstruction_empty);
        data.images.near.forEach(function (box, n) {
          if (!result) { view.digit(null, box); writeLines(ctx, data.texts.near[n], T.near_empty); return; }
          var i = result.neighbours[n];
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(view.sheet, (i % 50) * 28, Math.floor(i / 50) * 28, 28, 28, box[0], box[1], box[2], box[3]);
          writeLines(ctx, data.texts.near[n], data.class_names[data.labels[i]]);
        });
        if (result) {        // a code off the map is drawn on its edge, as in the notebook
          var x = Math.min(Math.max(result.code[0], data.limits[0][0]), data.limits[1][0]);
          var y = Math.min(Math.max(result.code[1], data.limits[0][1]), data.limits[1][1]);
          var at = toPixels(data.axes, x, y);
          drawCross(ctx, at[0], at[1], data.marker_size);
        }
      }
    },
    denoising: {
      compute: function (data, nets, digit, setting) {
        var kind = setting.kind;
        var noisy = corrupt(kind, setting.level, digit, data, data.salt_share, data.pixels);
        var plain = runNetwork(nets.plain, noisy), dae = runNetwork(nets["dae " + kind], noisy);
        var errors = { "noisy": meanSquare(noisy, digit), "plain AE": meanSquare(plain, digit), "DAE": meanSquare(dae, digit) };
        var values = { kind: kind, level: setting.level, noisy: errors.noisy, plain: errors["plain AE"], dae: errors.DAE };
        return { digit: digit, noisy: noisy, "plain AE": clampAll(plain, data.pixels), "DAE": clampAll(dae, data.pixels),
                 errors: errors, kind: kind, level: setting.level, values: values,
                 text: format(data.templates.text, values) };
      },
      paint: function (view, data, result) {
        var im = data.images, slots = data.texts.titles, T = data.templates;
        view.digit(result && result.digit, im.digit);
        view.digit(result && result.noisy, im.noisy);
        view.digit(result && result["plain AE"], im.plain);
        view.digit(result && result.DAE, im.dae);
        slots.forEach(function (slot, n) {
          writeLines(view.context, slot, result ? format(T.titles[n], result.values) : T.title_empty);
        });
      }
    },
    posterior: {
      compute: function (data, nets, digit) {
        var h = runNetwork(nets.body, digit);
        var mu = runNetwork(nets.mu, h), logvar = runNetwork(nets.logvar, h);
        var sigma = [Math.exp(0.5 * logvar[0]), Math.exp(0.5 * logvar[1])];
        var decoded = [[mu[0], mu[1]]].concat(data.eps.map(function (e) {
          return [mu[0] + sigma[0] * e[0], mu[1] + sigma[1] * e[1]];
        })).map(function (z) { return clampAll(runNetwork(nets.decoder, z), data.pixels); });
        var probabilities = softmax(runNetwork(nets.judge, digit)), guess = 0;
        for (var k = 1; k < probabilities.length; k++) if (probabilities[k] > probabilities[guess]) guess = k;
        var name = data.class_names[guess];
        return { digit: digit, mu: mu, sigma: sigma, mean: decoded[0], samples: decoded.slice(1),
                 probabilities: probabilities, guess: guess, confidence: probabilities[guess],
                 text: format(data.templates.text, { name: name, confidence: probabilities[guess], mu1: mu[0],
                                                     mu2: mu[1], sigma1: sigma[0], sigma2: sigma[1] }) };
      },
      paint: function (view, data, result) {
        var ctx = view.context, T = data.templates;
        view.digit(result && result.digit, data.images.digit);
        view.digit(result && result.mean, data.images.mean);
        data.images.samples.forEach(function (box, n) { view.digit(result && result.samples[n], box); });
        writeLines(ctx, data.texts.judge, result ? format(T.judge, { name: data.class_names[result.guess],
                                                                    confidence: result.confidence }) : T.judge_empty);
        if (!result) return;
        // q(z|x): an ellipse of 2 standard deviations and a + at the mean, clipped to the axes
        var a = data.axes, centre = toPixels(a, result.mu[0], result.mu[1]);
        var edge = toPixels(a, result.mu[0] + 2 * result.sigma[0], result.mu[1] + 2 * result.sigma[1]);
        ctx.save();
        ctx.beginPath();
        ctx.rect(a.x[0], a.y[1], a.x[1] - a.x[0], a.y[0] - a.y[1]);
        ctx.clip();
        ctx.strokeStyle = "black";
        ctx.lineWidth = data.ellipse_width;
        ctx.beginPath();
        ctx.ellipse(centre[0], centre[1], Math.abs(edge[0] - centre[0]), Math.abs(edge[1] - centre[1]), 0, 0, 2 * Math.PI);
        ctx.stroke();
        var r = data.centre_size / 2;
        ctx.lineWidth = data.centre_width;
        ctx.lineCap = "butt";
        ctx.beginPath();
        ctx.moveTo(centre[0] - r, centre[1]); ctx.lineTo(centre[0] + r, centre[1]);
        ctx.moveTo(centre[0], centre[1] - r); ctx.lineTo(centre[0], centre[1] + r);
        ctx.stroke();
        ctx.restore();
      }
    }
  };

  function drawingPlayer(root, data) {
    var kind = VIEWS[data.view];
    if (!kind) throw new Error(root.id + ": aew.js has no view " + JSON.stringify(data.view));
    var nets = null;                // the view's networks, fetched when it comes near the screen
    var canvas = root.querySelector("canvas.aew-canvas"), context = canvas.getContext("2d");
    var preview = root.querySelector("canvas.aew-preview"), previewContext = preview.getContext("2d");
    var result = root.querySelector(".aew-result");
    var small = make("canvas", { width: "28", height: "28" }), smallContext = small.getContext("2d");
    var pixels = smallContext.createImageData(28, 28);
    var background = null, setting = {}, last = null;

    function paintDigit(target, image, box) {   // a 28x28 image (or black for null) into box
      for (var p = 0; p < 784; p++) {
        var grey = image ? Math.round(clamp(image[p], data.pixels) * 255) : 0;
        pixels.data[4 * p] = pixels.data[4 * p + 1] = pixels.data[4 * p + 2] = grey;
        pixels.data[4 * p + 3] = 255;
      }
      smallContext.putImageData(pixels, 0, 0);
      target.imageSmoothingEnabled = false;              // square pixels, as matplotlib draws them
      target.drawImage(small, box[0], box[1], box[2], box[3]);
    }
    var view = { context: context, sheet: null, digit: function (image, box) { paintDigit(context, image, box); } };

    function show(digit, time) {
      last = digit;
      paintDigit(previewContext, digit, [0, 0, preview.width, preview.height]);
      preview.setAttribute("aria-label", format(data.words.preview, { what: digit ? data.words.prepared : data.words.empty }));
      if (!nets) { load(); return null; }     // drawn before the networks came: shown once they do
      var computed = digit ? kind.compute(data, nets, digit, setting) : null;
      context.drawImage(background, 0, 0, canvas.width, canvas.height);
      kind.paint(view, data, computed);
      var text = computed ? computed.text : data.empty;
      result.textContent = text;
      canvas.setAttribute("aria-label", format(data.words.now, { alt: data.alt, text: text }));
      if (time !== undefined) AEW.drawTimings.push(performance.now() - time);
      return computed;
    }

    var box = root.querySelector(".aew-controls");
    data.controls.forEach(function (spec) {
      var c = control(root.id + "-" + spec.name, spec, function (i) {
        setting[spec.name] = spec.numbers[i];
        c.set(i);
        show(last, performance.now());
      });
      box.appendChild(c.element);
      c.set(spec.start);
      setting[spec.name] = spec.numbers[spec.start];
    });
    var pad = drawingPad(root, data.pad, data.words, show);
    var load = lazily(root, data, function () {
      pad.ready();
      var names = Object.keys(data.networks);
      var wanted = names.map(function (name) { return fetchNetwork(data.networks[name]); });
      wanted.push(fetchImage(data.background), data.sheet ? fetchImage(data.sheet) : null, fetchJSON(data.view_data));
      return Promise.all(wanted).then(function (loaded) {
        var ready = {};
        names.forEach(function (name, n) { ready[name] = loaded[n]; });
        background = loaded[names.length];
        view.sheet = loaded[names.length + 1];
        Object.assign(data, loaded[names.length + 2]);      // the view's own data
        nets = ready;
        pad.changed();
      });
    });

    AEW.drawings[root.id] = {
      load: load,                 // the promise of the view, ready
      // the view's numbers for a 28x28 digit (784 values), as plain arrays (for the tests)
      compute: function (digit, options) {
        var out = kind.compute(data, nets, Float32Array.from(digit), Object.assign({}, setting, options || {}));
        return JSON.parse(JSON.stringify(out, function (key, value) {
          return ArrayBuffer.isView(value) ? Array.from(value) : value;
        }));
      },
      drawStrokes: function (strokes) { pad.drawStrokes(strokes); return last && Array.from(last); },
      clear: pad.clear,
      digit: function () { return last && Array.from(last); },
      ink: function () { return Array.from(pad.ink()); },
      text: function () { return result.textContent; }
    };
  }

  // for the tests (Node and the browser): the pure parts
  AEW.prepareDigit = prepareDigit;
  AEW.areaResize = areaResize;
  AEW.runNetwork = runNetwork;
  AEW.layersFrom = layersFrom;
  AEW.corrupt = corrupt;
  AEW.format = format;
  AEW.views = Object.keys(VIEWS);

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("figure.aew"), function (root) {
      var script = root.querySelector("script.aew-data");
      if (!script) return;
      var data = JSON.parse(script.textContent);
      if (data.form === "frames") framesPlayer(root, data);
      else if (data.form === "decoder") decoderPlayer(root, data);
      else if (data.form === "drawing") drawingPlayer(root, data);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
