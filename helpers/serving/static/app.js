// The page talks to the same API as any client: GET /metadata, POST /predict (a multipart
// upload, field `file`).
"use strict";

const results = document.getElementById("results");
const errorBox = document.getElementById("error");
const preview = document.getElementById("preview");

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  results.replaceChildren();
}

function showResults(top) {
  errorBox.hidden = true;
  results.replaceChildren(...top.map((entry) => {
    const row = document.createElement("li");
    row.className = "result";
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = entry.class;
    const track = document.createElement("div");
    track.className = "track";
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${(100 * entry.probability).toFixed(1)}%`;
    track.append(bar);
    const probability = document.createElement("span");
    probability.className = "probability";
    probability.textContent = `${(100 * entry.probability).toFixed(1)} %`;
    row.append(label, track, probability);
    return row;
  }));
  document.body.dataset.state = "done";
}

// A refusal's reason: FastAPI's JSON `detail` (a message, or a list of validation errors),
// or the plain text some answers carry (Starlette's 413 "Content Too Large").
async function errorDetail(response) {
  const text = await response.text();
  try {
    const detail = JSON.parse(text).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((error) => error.msg).join("; ");
  } catch (error) {
    // not JSON: the text itself
  }
  return text;
}

async function classify(blob, name) {
  document.body.dataset.state = "waiting";
  const form = new FormData();
  form.append("file", blob, name);
  try {
    const response = await fetch("/predict?top_k=3", { method: "POST", body: form });
    if (!response.ok) {
      showError(`The server refused the image (${response.status}): ${await errorDetail(response)}`);
      document.body.dataset.state = "error";
      return;
    }
    const answer = await response.json();
    showResults(answer.predictions[0]);
  } catch (error) {
    showError(`Could not reach the server: ${error}`);
    document.body.dataset.state = "error";
  }
}

function classifyFile(file) {
  if (!file) return;
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  classify(file, file.name);
}

// Choose or drop an image.
const dropZone = document.getElementById("drop-zone");
const fileInput = document.getElementById("file-input");
fileInput.addEventListener("change", () => classifyFile(fileInput.files[0]));
for (const name of ["dragenter", "dragover"]) {
  dropZone.addEventListener(name, (event) => {
    event.preventDefault();
    dropZone.classList.add("dragging");
  });
}
for (const name of ["dragleave", "drop"]) {
  dropZone.addEventListener(name, () => dropZone.classList.remove("dragging"));
}
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  classifyFile(event.dataTransfer.files[0]);
});

// Draw with the mouse (or a finger): white strokes on black, like MNIST-style images.
const pad = document.getElementById("draw-pad");
const pen = pad.getContext("2d");
function clearPad() {
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, pad.width, pad.height);
}
clearPad();
let drawing = false;
function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width,
          (event.clientY - box.top) * pad.height / box.height];
}
pad.addEventListener("pointerdown", (event) => {
  drawing = true;
  pad.setPointerCapture(event.pointerId);
  pen.beginPath();
  pen.moveTo(...point(event));
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  pen.lineTo(...point(event));
  pen.strokeStyle = "#fff";
  pen.lineWidth = 22;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.stroke();
});
for (const name of ["pointerup", "pointercancel"]) {
  pad.addEventListener(name, () => { drawing = false; });
}
document.getElementById("clear-drawing").addEventListener("click", clearPad);
document.getElementById("classify-drawing").addEventListener("click", () => {
  pad.toBlob((blob) => classify(blob, "drawing.png"), "image/png");
});

// What the model is: shown at the top; the drawing pad only for grayscale models.
fetch("/metadata").then((response) => response.json()).then((metadata) => {
  const accuracy = metadata.test_metrics.test_accuracy;
  const [height, width, channels] = metadata.input_shape;
  document.getElementById("model-info").textContent =
    `${metadata.classes.length} classes (${metadata.classes.join(", ")}); ` +
    `${width}×${height} ${channels === 1 ? "grayscale" : "RGB"} input` +
    (accuracy === undefined ? "" : `; test accuracy ${(100 * accuracy).toFixed(2)} %`) +
    `; model ${metadata.model_version}`;
  document.getElementById("draw-section").hidden = channels !== 1;
  document.body.dataset.ready = "true";
}).catch((error) => showError(`Could not read /metadata: ${error}`));
