// The benchmark's one-way sender, a process of its own so that a receiver's
// CPU time is its own: connects to 127.0.0.1:<port>, writes <writes> times a
// chunk of <frames-per-write> frames of <size> bytes each (a u32 big-endian
// length, then <size> bytes of 'a'), half-closes, and waits until the
// receiver closes. main.ts builds it with `cc -O2`; default socket options
// (Nagle on), as every case of the benchmark.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: sender <port> <size> <frames-per-write> <writes>\n");
    return 2;
  }
  int port = atoi(argv[1]);
  unsigned long size = strtoul(argv[2], NULL, 10);
  unsigned long per_write = strtoul(argv[3], NULL, 10);
  unsigned long writes = strtoul(argv[4], NULL, 10);
  size_t frame = 4 + size;
  size_t length = frame * per_write;
  unsigned char *chunk = malloc(length);
  if (chunk == NULL) return 1;
  for (unsigned long i = 0; i < per_write; i++) {
    unsigned char *f = chunk + i * frame;
    f[0] = (unsigned char)(size >> 24);
    f[1] = (unsigned char)(size >> 16);
    f[2] = (unsigned char)(size >> 8);
    f[3] = (unsigned char)size;
    memset(f + 4, 'a', size);
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    perror("sender: connect");
    return 1;
  }
  for (unsigned long w = 0; w < writes; w++) {
    size_t done = 0;
    while (done < length) {
      ssize_t n = write(fd, chunk + done, length - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        perror("sender: write");
        return 1;
      }
      done += (size_t)n;
    }
  }
  shutdown(fd, SHUT_WR);
  char drain[256];
  while (read(fd, drain, sizeof drain) > 0) {
  }
  close(fd);
  return 0;
}
