#!/usr/bin/python3
"""networkx side of the graph-core benchmark (run by bench/run.ts).

Reads the edge list written by run.ts (not timed), then times only the
algorithms: building nx.Graph from the in-memory edge list, BFS from the
first `sources` nodes, core_number, and FastRP. networkx has no FastRP, so
the peer is the paper's own formulation in NumPy/SciPy (the authors' reference
code is written that way) on networkx's adjacency: a very sparse random
projection (s = 3), then three products with D^-1 A, row-normalised and
summed with weights [0, 1, 1], as graph-core does. Prints one JSON object.
"""
import json
import sys
import time

import networkx as nx
import numpy as np
import scipy.sparse as sp


def fastrp(g, dim=128, weights=(0.0, 1.0, 1.0), seed=1):
    n = g.number_of_nodes()
    a = nx.to_scipy_sparse_array(g, nodelist=range(n), format="csr", dtype=np.float32)
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    p = sp.diags(inv.astype(np.float32)) @ a
    rng = np.random.default_rng(seed)
    v = np.float32(np.sqrt(3.0))
    cur = rng.choice(np.array([v, 0.0, -v], dtype=np.float32), size=(n, dim), p=[1 / 6, 2 / 3, 1 / 6])
    out = np.zeros((n, dim), dtype=np.float32)
    for w in weights:
        cur = p @ cur
        if w != 0:
            norms = np.linalg.norm(cur, axis=1, keepdims=True)
            out += w * np.divide(cur, norms, out=np.zeros_like(cur), where=norms > 0)
    return out


def main():
    path, sources, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    edges = []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            u, v = line.split()
            edges.append((int(u), int(v)))
    build, build_cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        g = nx.Graph()
        g.add_edges_from(edges)
        build.append(time.perf_counter() - t)
        build_cpu.append(time.process_time() - c)
    t, c = time.perf_counter(), time.process_time()
    for s in range(sources):
        nx.single_source_shortest_path_length(g, s)
    bfs, bfs_cpu = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    nx.core_number(g)
    core, core_cpu = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    fastrp(g)
    frp, frp_cpu = time.perf_counter() - t, time.process_time() - c
    print(json.dumps({
        "networkx": nx.__version__,
        "python": sys.version.split()[0],
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "build_ms": 1000 * min(build),
        "bfs_sources": sources,
        "bfs_ms": 1000 * bfs,
        "kcore_ms": 1000 * core,
        "fastrp_ms": 1000 * frp,
        "fastrp_peer": "numpy/scipy FastRP on networkx adjacency (networkx has none)",
        "cpu": {"build_ms": 1000 * min(build_cpu), "bfs_ms": 1000 * bfs_cpu, "kcore_ms": 1000 * core_cpu, "fastrp_ms": 1000 * frp_cpu},
    }))


if __name__ == "__main__":
    main()
