/*
 * serial.h - polled 16550 UART driver for COM1 (I/O port 0x3F8).
 */
#ifndef VSMRR_SERIAL_H
#define VSMRR_SERIAL_H

#include "types.h"

#define COM1_PORT 0x3f8

void serial_init(void);
void serial_putc(char c);       /* waits for THRE before each byte */
void serial_write(const char *s, size_t n);
void serial_flush(void);        /* waits until the transmitter is empty */

#endif
