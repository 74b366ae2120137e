"""A real gammapy step under provhub.capture (issue 21): read the H.E.S.S. DL3 DR1 DataStore in
data/, make run 23523's counts map, write it, and post the activity to a provhub service.

    PYTHONPATH=. python scripts/capture_gammapy.py http://127.0.0.1:8080 OUT.fits

needs gammapy (not a provhub dependency). The run's events file is recorded with the id
import-fits gives it, so `provhub import-fits data/dl3/hess-dl3-dr1/data/*023523*` joins it and
ProvSAP traces the counts map back to the run's HDUs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from provhub import capture
from provhub.client import Client

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "data/dl3/hess-dl3-dr1"


def main(url: str, out: str) -> None:
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from gammapy.data import DataStore
    from gammapy.maps import Map

    client = Client(url)
    with capture.activity(
        "gammapy-counts-map", description="counts map of one H.E.S.S. run", client=client, software=["gammapy"]
    ) as act:
        store = DataStore.from_dir(STORE)
        obs = store.obs(23523)
        events_file = STORE / store.hdu_table.hdu_location(obs_id=23523, hdu_type="events").path(abs_path=False)
        act.used(STORE / "hdu-index.fits.gz", role="hdu-index")
        act.used(STORE / "obs-index.fits.gz", role="obs-index")
        act.used(events_file, role="events")
        binsz = 0.02
        act.parameter("binsz", binsz, unit="deg")
        act.parameter("width", 4.0, unit="deg")
        center = obs.pointing.fixed_icrs if hasattr(obs.pointing, "fixed_icrs") else obs.get_pointing_icrs(obs.tmid)
        counts = Map.create(skydir=SkyCoord(center), width=4.0 * u.deg, binsz=binsz, frame="icrs")
        counts.fill_events(obs.events)
        counts.write(out, overwrite=True)
        act.generated(out, role="counts")
    print(f"{int(counts.data.sum())} counts; activity {act.id.uri}; document {act.result.id}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
