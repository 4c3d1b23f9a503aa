"""How fast the Manager stub imports batches and answers con_conteo (it bounds end-to-end sync benchmarks).

    .venv/bin/python bench/bench_manager_stub.py --planillas 2000 --elements 40
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from typing import Any

import requests

from sync.devstack.manager_stub import ManagerStub


def element(line: int, number: int) -> dict[str, Any]:
    return {
        "codigo_cliente": "42", "nombre_cliente": "Cliente", "codigo_obra": "160", "nombre_obra": "Obra",
        "fila": str(line), "zelemento": str(number), "ferrawin_id": f"{line}-{number}", "descripcion_fila": "PILAR",
        "marca": "P1", "diametro": 12, "figura": "00", "longitud": 3000.0, "dobles_barra": 2, "barras": 4,
        "peso": 10.65, "dimensiones": "15\t90d\t30", "etiqueta": "E1",
    }  # fmt: skip


def batches(planillas: int, elements: int) -> Any:
    for first in range(0, planillas, 5):
        yield [
            {
                "codigo": f"2025-{first + k:06d}", "ferrawin_hash": "1:2:3",
                "ferrawin_fecha_calculo": "2025-01-01 00:00:00.123",
                "elementos": [element(k, j) for j in range(elements)], "entidades": [{"linea": "1"}],
            }
            for k in range(min(5, planillas - first))
        ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--planillas", type=int, default=2000)
    parser.add_argument("--elements", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, ManagerStub("bench", f"{folder}/m.db") as stub:
        session = requests.Session()
        headers = {**stub.headers(), "Content-Type": "application/json", "Content-Encoding": "gzip"}
        batches_ = batches(args.planillas, args.elements)
        bodies = [gzip.compress(json.dumps({"planillas": b}).encode(), 9) for b in batches_]
        for label in ("create", "re-send (update path)"):
            started = time.perf_counter()
            for body in bodies:
                assert session.post(f"{stub.url}/api/ferrawin/sync", data=body, headers=headers).status_code == 200
            took = time.perf_counter() - started
            print(f"{label}: {args.planillas} planillas x {args.elements} elements in {took:.1f} s "
                  f"({args.planillas / took:.0f} planillas/s, {len(bodies) / took:.0f} batches/s)")  # fmt: skip
        started = time.perf_counter()
        answer = session.get(f"{stub.url}/api/ferrawin/codigos-existentes?con_conteo=1", headers=stub.headers())
        print(f"con_conteo: {len(answer.json()['planillas'])} codes in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
