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
    build = []
    for _ in range(repeats):
        t = time.perf_counter()
        g = nx.Graph()
        g.add_edges_from(edges)
        build.append(time.perf_counter() - t)
    t = time.perf_counter()
    for s in range(sources):
        nx.single_source_shortest_path_length(g, s)
    bfs = time.perf_counter() - t
    t = time.perf_counter()
    nx.core_number(g)
    core = time.perf_counter() - t
    print(json.dumps({
        "networkx": nx.__version__,
        "python": sys.version.split()[0],
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "build_ms": 1000 * min(build),
        "bfs_sources": sources,
        "bfs_ms": 1000 * bfs,
        "kcore_ms": 1000 * core,
    }))


if __name__ == "__main__":
    main()
