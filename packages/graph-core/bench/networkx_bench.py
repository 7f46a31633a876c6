#!/usr/bin/python3
"""networkx side of the graph-core benchmark (run by bench/run.ts).

Reads the edge list written by run.ts (not timed), then times only the
algorithms: building nx.Graph from the in-memory edge list, BFS from the
first `sources` nodes, and core_number. Prints one JSON object.
"""
import json
import sys
import time

import networkx as nx


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
    print(json.dumps({
        "networkx": nx.__version__,
        "python": sys.version.split()[0],
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "build_ms": 1000 * min(build),
        "bfs_sources": sources,
        "bfs_ms": 1000 * bfs,
        "kcore_ms": 1000 * core,
        "cpu": {"build_ms": 1000 * min(build_cpu), "bfs_ms": 1000 * bfs_cpu, "kcore_ms": 1000 * core_cpu},
    }))


if __name__ == "__main__":
    main()
