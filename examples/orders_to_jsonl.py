"""A batch job: 100,000 orders from a CSV export into gzipped JSON Lines.

The export is the kind a spreadsheet or an old system writes: a byte-order
mark at the start, a row cut short, a row with an extra field, a name typed
on a Latin-1 machine, an amount that is not a number, and a quote left open
on the last line. Every good order is written; every bad row is reported
with its line, and the job still finishes.

Run it with ``python examples/orders_to_jsonl.py``.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import genpipe as gp

ORDERS = 100_000
#: Line of the export (the header is line 1) -> what is wrong with it.
DAMAGED = {
    1_201: b"1200,cut short\r\n",
    25_001: b"25000,Zo\xeb,Lyon,19.90\r\n",  # Latin-1, in a UTF-8 file
    40_001: b"40000,Extra,Field,Lyon,5.00\r\n",
    77_778: b"77777,Ada,Paris,twelve\r\n",
}


def write_export(path: Path) -> None:
    """The CSV export, with its damage: see `DAMAGED`."""
    lines = [b"\xef\xbb\xbfid,name,city,amount\r\n"]
    for n in range(ORDERS):
        line = DAMAGED.get(
            n + 2, b"%d,Customer %d,Paris,%d.%02d\r\n" % (n, n, n % 90, n % 100)
        )
        lines.append(line)
    lines.append(b'100000,"Unfinished,Paris,1.00\r\n')
    path.write_bytes(b"".join(lines))


def order(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as an order for JSON, or ValueError saying what is wrong."""
    try:
        cents = int(Decimal(row["amount"]) * 100)
    except InvalidOperation:
        raise ValueError(f"amount {row['amount']!r} is not a number") from None
    return {
        "id": int(row["id"]),
        "name": row["name"],
        "city": row["city"],
        "cents": cents,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        export, target = Path(scratch) / "orders.csv", Path(scratch) / "orders.jsonl.gz"
        write_export(export)
        rejected = gp.DeadLetters()
        written = (
            gp.read_csv(export, on_error=rejected)
            | gp.map(order, on_error=rejected)
            | gp.write_jsonl(target)
        )
        orders = gp.read_jsonl(target) | gp.to_list()
    print(f"wrote {written:,} orders to {target.name}, read back {len(orders):,}")
    print(f"first: {orders[0]}")
    print(f"rejected {len(rejected)} rows:")
    for letter in rejected:
        error = letter.exception
        if isinstance(error, gp.RecordError):
            reason = str(error).removeprefix(f"{error.path}:{error.line}: ")
            print(f"  line {error.line}: {reason.split(';')[0]}")
        else:
            print(f"  order {letter.item['id']}: {error}")


if __name__ == "__main__":
    main()
