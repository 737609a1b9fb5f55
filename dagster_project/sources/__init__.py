"""One module per source; `SOURCES` is the registry the ingest assets are built from."""

from dagster_project.sources import comtrade, fx, prices, usgs
from dagster_project.sources.base import SourceSpec

SOURCES: dict[str, SourceSpec] = {
    spec.name: spec for spec in (comtrade.SPEC, prices.SPEC, fx.SPEC, usgs.SPEC)
}
