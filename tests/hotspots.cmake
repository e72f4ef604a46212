# HOTSPOTS tests (src/hotspots). The agreement runs compare the incremental detector with the
# brute-force reference and an independent oracle after every record.
rcfd_add_test(test_hs_agree SOURCES unit/test_hs_agree.c LABELS unit TIMEOUT 120)
