#define _GNU_SOURCE
#include <unistd.h>
#include "CPlatform.h"

int reel_syncfs(int fd) { return syncfs(fd); }
