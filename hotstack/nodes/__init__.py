"""More than one node (docs/nodes.md): what a node does to join (`join`), the pod a node on this
machine runs in (`pod`), and what the first host does for its nodes (`admit`, `inventory`,
`removal`). The compute role itself is the catalog's (catalog/node.py)."""
