"""One module per source; `SOURCES` is the registry the ingest assets are built from."""

from dagster_project.sources import census, comtrade, fx, gacc, prices, usgs
from dagster_project.sources.contract import SourceSpec

SOURCES: dict[str, SourceSpec] = {
    spec.name: spec for spec in (comtrade.SPEC, census.SPEC, gacc.SPEC, prices.SPEC, fx.SPEC, usgs.SPEC)
}
