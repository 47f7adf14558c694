/*
 * serial.c - COM1 16550 UART, polled. Programmed like a real driver would
 * (an emulator may ignore the baud rate, but a real UART needs it).
 */
#include "serial.h"
#include "x86.h"

#define UART_THR 0      /* transmit holding (DLAB=0) */
#define UART_DLL 0      /* divisor latch low (DLAB=1) */
#define UART_IER 1      /* interrupt enable (DLAB=0) */
#define UART_DLM 1      /* divisor latch high (DLAB=1) */
#define UART_FCR 2      /* FIFO control */
#define UART_LCR 3      /* line control */
#define UART_MCR 4      /* modem control */
#define UART_LSR 5      /* line status */

#define LSR_THRE 0x20   /* transmit holding register empty */
#define LSR_TEMT 0x40   /* transmitter completely empty */

/* Upper bound on LSR polls, so a missing or broken UART cannot hang us. */
#define POLL_LIMIT 1000000

void serial_init(void)
{
	outb(COM1_PORT + UART_IER, 0x00);   /* no UART interrupts: we poll */
	outb(COM1_PORT + UART_LCR, 0x80);   /* DLAB=1: expose the divisor */
	outb(COM1_PORT + UART_DLL, 0x01);   /* divisor 1 = 115200 baud */
	outb(COM1_PORT + UART_DLM, 0x00);
	outb(COM1_PORT + UART_LCR, 0x03);   /* 8 data bits, no parity, 1 stop */
	outb(COM1_PORT + UART_FCR, 0xc7);   /* FIFOs on and cleared, 14-byte trigger */
	outb(COM1_PORT + UART_MCR, 0x0b);   /* DTR, RTS, OUT2 */
}

static void wait_lsr(u8 bit)
{
	for (int i = 0; i < POLL_LIMIT; i++) {
		if (inb(COM1_PORT + UART_LSR) & bit)
			return;
		pause();
	}
}

void serial_putc(char c)
{
	wait_lsr(LSR_THRE);
	outb(COM1_PORT + UART_THR, (u8)c);
}

void serial_write(const char *s, size_t n)
{
	while (n--)
		serial_putc(*s++);
}

void serial_flush(void)
{
	wait_lsr(LSR_TEMT);
}
