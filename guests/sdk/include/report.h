/*
 * report.h - test result reporting. Each check prints one line starting
 * with "PASS: ", "FAIL: " or "SKIP: "; report_summary() prints the closing
 * line "SUMMARY: N passed, M failed" and returns the exit code.
 */
#ifndef VSMRR_REPORT_H
#define VSMRR_REPORT_H

#include "types.h"

/* Print PASS or FAIL with the formatted message; returns cond. */
bool report(bool cond, const char *fmt, ...) __printf(2, 3);
void report_skip(const char *fmt, ...) __printf(1, 2);
/* Informational line prefixed with "INFO: ". */
void report_info(const char *fmt, ...) __printf(1, 2);
/* Print the summary; 0 if nothing failed, EXIT_FAIL otherwise. */
int report_summary(void);
int report_failures(void);

#endif
