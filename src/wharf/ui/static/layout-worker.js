// The asset graph's layout (dagre), off the page's thread: a graph of thousands of assets takes
// a while to lay out, and the page stays usable (filter, counts, buttons) meanwhile.
"use strict";
importScripts("/static/vendor/dagre.min.js");
onmessage = (ev) => {
  const { id, nodes, edges, big } = ev.data;
  const g = new dagre.graphlib.Graph();
  // a large graph: the quicker ranker, and one ordering sweep instead of dagre's best-of-many
  g.setGraph(Object.assign({ rankdir: "LR", nodesep: 14, ranksep: 60, marginx: 20, marginy: 20 }, big ? { ranker: "longest-path" } : {}));
  g.setDefaultEdgeLabel(() => ({}));
  nodes.forEach((n) => g.setNode(n.id, { width: n.width, height: n.height }));
  edges.forEach((e) => g.setEdge(e[0], e[1]));
  dagre.layout(g, big ? { disableOptimalOrderHeuristic: true } : {});
  const boxes = {};
  g.nodes().forEach((k) => { const b = g.node(k); boxes[k] = { x: b.x, y: b.y, width: b.width, height: b.height }; });
  const lines = edges.map((e) => g.edge(e[0], e[1]).points.map((p) => [p.x, p.y]));
  const size = g.graph();
  postMessage({ id, boxes, lines, width: size.width, height: size.height });
};
