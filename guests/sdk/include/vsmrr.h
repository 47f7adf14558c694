/*
 * vsmrr.h - everything a guest test needs, in one include.
 *
 * The SDK's startup code has already, before main() runs: switched to
 * long mode with a 4 GiB identity map, enabled SSE, initialised COM1,
 * loaded GDT/TSS/IDT, masked the 8259 PIC and enabled the local APIC.
 * main()'s return value is the exit code (see report_summary()).
 */
#ifndef VSMRR_H
#define VSMRR_H

#include "types.h"
#include "layout.h"
#include "x86.h"
#include "libc.h"
#include "serial.h"
#include "report.h"
#include "desc.h"
#include "apic.h"
#include "smp.h"
#include "fwcfg.h"
#include "multiboot.h"
#include "vm.h"
#include "usermode.h"

#endif
