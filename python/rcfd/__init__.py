from ._rcfd import Error, Forest, Hotspot, Hotspots, HotspotsResult, Result, __version__, strerror
