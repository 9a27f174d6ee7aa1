"""Analyses of published LEP measurements (Z-pole e+e- -> hadrons), as compiled kernels.

:mod:`simulators.lep.aleph_1996` is ALEPH_1996_S3486095; :mod:`simulators.lep.common` and
:mod:`simulators.lep.durham` hold the per-event pieces analyses share (event axes, the
Durham clustering).
"""
