/* Runs bprop lab's JavaScript math on problems exported by the Python tests.
 *
 * Usage: node tests/js/oracle.js < problems.json > results.json
 *
 * The input is a JSON list of jobs; each names a function of the lab's modules and its
 * arguments, and the output is the list of their results, in the same order.  The Python
 * side (tests/test_lab_net.py) computes the same things with bprop and compares.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const web = path.join(__dirname, "..", "..", "bprop", "web");
const net = require(path.join(web, "lab_net.js"));
const images = require(path.join(web, "lab_images.js"));
const words = require(path.join(web, "lab_words.js"));

const jobs = {
  /** steps of SGD from given parameters over given mini-batches: the final parameters. */
  train(job) {
    const n = new net.Network(job.sizes, job.activations, job.cost, {
      weights: job.weights,
      biases: job.biases,
    });
    const x = net.fromRows(job.X);
    const y = net.fromRows(job.Y);
    const state = new net.TrainState(0);
    const costs = [];
    for (const rows of job.batches) {
      const bp = net.step(n, x, y, rows, job.options, state);
      costs.push(bp.cost);
    }
    return {
      weights: n.weights.map(net.toRows),
      biases: n.biases.map((b) => Array.from(b)),
      costs,
    };
  },
  /** backprop over one mini-batch: the gradients, the trace and the δs. */
  backprop(job) {
    const n = new net.Network(job.sizes, job.activations, job.cost, {
      weights: job.weights,
      biases: job.biases,
    });
    const bp = n.backprop(net.fromRows(job.X), net.fromRows(job.Y));
    return {
      nabla_w: bp.nablaW.map(net.toRows),
      nabla_b: bp.nablaB.map((b) => Array.from(b)),
      delta: bp.delta.map(net.toRows),
      zs: bp.zs.map(net.toRows),
      output: net.toRows(bp.output),
    };
  },
  /** bprop.explain.number on each value. */
  number(job) {
    return job.values.map(words.number);
  },
  /** A network of the page's own initial parameters. */
  init(job) {
    const p = net.initialParameters(job.sizes, job.init, job.seed);
    return { weights: p.weights.map(net.toRows), biases: p.biases.map((b) => Array.from(b)) };
  },
  /** A greyscale image (h, w) prepared like MNIST or Fashion-MNIST: 784 numbers, or null. */
  prepare(job) {
    const g = images.image(job.h, job.w, Float64Array.from(job.gray));
    const x = job.style === "fashion-mnist" ? images.toFashionMnist(g) : images.toMnist(g);
    return x === null ? null : Array.from(x);
  },
  /** RGBA bytes → greyscale, 1 = white. */
  gray(job) {
    return Array.from(images.grayFromRGBA(job.rgba, job.w, job.h).data);
  },
  /** Invalid pairings: the message, or null when the network is accepted. */
  pairing(job) {
    try {
      new net.Network(job.sizes, job.activations, job.cost, { seed: 0 });
      return null;
    } catch (e) {
      return e.message;
    }
  },
};

const input = JSON.parse(fs.readFileSync(0, "utf-8"));
const out = input.map((job) => jobs[job.job](job));
process.stdout.write(JSON.stringify(out));
