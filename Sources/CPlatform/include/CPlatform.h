#ifndef REEL_CPLATFORM_H
#define REEL_CPLATFORM_H

/// Flushes every dirty page and inode of the file system holding `fd` to stable storage
/// (Linux syncfs(2), which Swift's Glibc module does not export). Returns 0 or -1 with errno.
int reel_syncfs(int fd);

#endif
