# HOTSPOTS tests (src/hotspots). The agreement runs compare the incremental detector with the
# brute-force reference and an independent oracle after every record.
rcfd_add_test(test_hs_agree SOURCES unit/test_hs_agree.c LABELS unit TIMEOUT 120)
rcfd_add_test(test_hs_cases SOURCES unit/test_hs_cases.c LABELS unit)
rcfd_add_test(test_hs_params SOURCES unit/test_hs_params.c LABELS unit)
rcfd_add_test(test_hs_state SOURCES unit/test_hs_state.c LABELS unit)
rcfd_add_test(test_hs_alloc SOURCES unit/test_hs_alloc.c LABELS unit)
