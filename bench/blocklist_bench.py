"""The blocklist check's own cost, with 10,000 entries and with none (contract section 9).

    python -m bench.blocklist_bench

Times what the widget's gate adds per request: the address look-up (sets and bisection)
and, for conversation routes, the contact's email against the email and domain sets.
"""

from __future__ import annotations

import timeit

from frontdesk.blocklist.matcher import EMPTY, Blocklist


def entries(count: int) -> list[tuple[str, str]]:
    rows = []
    for i in range(count):
        rows.append(
            [
                ("address", f"172.16.{i // 256 % 256}.{i % 256}/32"),
                ("address", f"172.{20 + i // 65536 % 8}.{i // 256 % 256}.0/24"),
                ("email", f"u{i}@spam.example"),
                ("email", f"@spam{i}.example"),
            ][i % 4]
        )
    return rows


def main() -> None:
    full = Blocklist(1, entries(10_000))
    addresses = [f"10.{i // 256 % 256}.{i % 256}.7" for i in range(10_000)]

    def check(blocklist: Blocklist) -> None:
        for address in addresses:
            blocklist.address_blocked(address)
            blocklist.email_blocked("bench@example.com")

    for name, blocklist in (("no entries", EMPTY), ("10,000 entries", full)):

        def run(b: Blocklist = blocklist) -> None:
            check(b)

        best = min(timeit.repeat(run, number=10, repeat=5))
        print(f"{name}: {best / (10 * len(addresses)) * 1e9:.0f} ns per request")


if __name__ == "__main__":
    main()
