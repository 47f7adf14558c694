/*
 * fwcfg.h - QEMU firmware configuration interface (I/O ports 0x510/0x511).
 */
#ifndef VSMRR_FWCFG_H
#define VSMRR_FWCFG_H

#include "types.h"

#define FW_CFG_PORT_SEL     0x510
#define FW_CFG_PORT_DATA    0x511

#define FW_CFG_SIGNATURE    0x0000
#define FW_CFG_ID           0x0001
#define FW_CFG_RAM_SIZE     0x0003
#define FW_CFG_NB_CPUS      0x0005

/* Select `key` and read `len` bytes of its item. */
void fwcfg_read(u16 key, void *buf, size_t len);
/* True if the signature item reads "QEMU". */
bool fwcfg_present(void);
/* Number of CPUs (0 if fw_cfg is missing). */
int fwcfg_nb_cpus(void);
/* RAM size in bytes (0 if fw_cfg is missing). */
u64 fwcfg_ram_size(void);

#endif
