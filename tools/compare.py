"""Compare the marts of two DuckDB warehouses: used by tests/test_incremental.py (an incremental
build equals a full one) and by the benchmark's 1e7 check (tools/bench/run.py), so both agree on
what "equal" means."""

from __future__ import annotations

from pathlib import Path


def compare_marts(
    a: Path, b: Path, schemas: tuple[str, ...] = ("marts",), exclude: tuple[str, ...] = ()
) -> dict:
    """Every table of `schemas` (default marts) of two warehouses but the `exclude`d ones
    (`schema.table`): the same columns (names, order,
    types) and the same rows, as multisets. Rows are paired on every non-float column (ties
    broken by the floats) and every float column must agree to 1e-9 relative (a sum may add the
    same numbers in another order)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    listing = (
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = ? and list_contains(?, schema_name)"
    )
    tables_a = {f"{s}.{t}" for s, t in con.execute(listing, ["a", list(schemas)]).fetchall()}
    tables_b = {f"{s}.{t}" for s, t in con.execute(listing, ["b", list(schemas)]).fetchall()}
    tables_a, tables_b = tables_a - set(exclude), tables_b - set(exclude)
    differences = {t: "missing on one side" for t in tables_a ^ tables_b}
    for qualified in sorted(tables_a & tables_b):
        schema, table = qualified.split(".", 1)
        columns, columns_b = (
            con.execute(
                "select column_name, data_type from duckdb_columns() where database_name = ? "
                "and schema_name = ? and table_name = ? order by column_index",
                [side, schema, table],
            ).fetchall()
            for side in ("a", "b")
        )
        if columns != columns_b:
            differences[qualified] = f"columns differ: {columns} against {columns_b}"
            continue
        exact = [f'"{c}"' for c, t in columns if t not in ("DOUBLE", "FLOAT")]
        floats = [f'"{c}"' for c, t in columns if t in ("DOUBLE", "FLOAT")]
        numbered = (
            f"select *, row_number() over (partition by {', '.join(exact) or 1} "
            f'order by {", ".join(floats) or 1}) as _n from {{}}.{schema}."{table}"'
        )
        pairs = " and ".join(f"x.{c} is not distinct from y.{c}" for c in [*exact, "_n"])
        close = (
            " and ".join(
                f"((x.{c} is null and y.{c} is null) or abs(x.{c} - y.{c}) <= "
                f"1e-9 * greatest(abs(x.{c}), abs(y.{c}), 1.0))"
                for c in floats
            )
            or "true"
        )
        unmatched = con.execute(
            f"select count(*) from ({numbered.format('a')}) as x full join ({numbered.format('b')}) as y "  # noqa: S608
            f"on {pairs} where x._n is null or y._n is null or not ({close})"
        ).fetchall()[0][0]
        if unmatched:
            differences[qualified] = f"{unmatched} rows differ"
    con.close()
    return {"equal": not differences, "tables": len(tables_a | tables_b), "differences": differences}
