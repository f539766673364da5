// A file system whose files take the first LIMIT bytes written to them and then fail every write
// with EIO: the kernel's FUSE protocol spoken directly over /dev/fuse (no libfuse). For the I/O
// error case, where device-mapper's error target is not available (no dm module on these VMs).
// Usage: eio_fs MOUNTPOINT LIMIT: mounts, then serves from a child in a session of its own until
// the mount goes away (umount); the parent exits 0 once mounted.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr uint64_t kRoot = FUSE_ROOT_ID, kFile = 2;
int g_fd = -1;
std::string g_name;  // the one file it holds (empty: none)
uint64_t g_size = 0, g_limit = 0;

void Reply(uint64_t unique, int error, const void* data = nullptr, size_t size = 0) {
  fuse_out_header out{};
  out.len = static_cast<uint32_t>(sizeof out + (error == 0 ? size : 0));
  out.error = -error;
  out.unique = unique;
  iovec iov[2] = {{&out, sizeof out}, {const_cast<void*>(data), error == 0 ? size : 0}};
  if (writev(g_fd, iov, iov[1].iov_len > 0 ? 2 : 1) < 0) {
    // The request was interrupted meanwhile (ENOENT): nothing to do.
  }
}

fuse_attr Attr(uint64_t node) {
  fuse_attr a{};
  a.ino = node;
  a.mode = node == kRoot ? (S_IFDIR | 0755) : (S_IFREG | 0644);
  a.nlink = node == kRoot ? 2 : 1;
  a.size = node == kRoot ? 0 : g_size;
  a.blksize = 4096;
  return a;
}

void ReplyEntry(uint64_t unique, uint64_t node) {
  fuse_entry_out e{};
  e.nodeid = node;
  e.attr = Attr(node);
  Reply(unique, 0, &e, sizeof e);
}

void ReplyAttr(uint64_t unique, uint64_t node) {
  fuse_attr_out a{};
  a.attr = Attr(node);
  Reply(unique, 0, &a, sizeof a);
}

void Serve() {
  std::vector<char> buf(FUSE_MIN_READ_BUFFER + (1 << 20));
  while (true) {
    const ssize_t n = read(g_fd, buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == ENOENT || errno == EAGAIN)) continue;
    if (n < static_cast<ssize_t>(sizeof(fuse_in_header))) return;  // ENODEV: unmounted
    const auto* in = reinterpret_cast<const fuse_in_header*>(buf.data());
    const char* arg = buf.data() + sizeof *in;
    switch (in->opcode) {
      case FUSE_INIT: {
        const auto* init = reinterpret_cast<const fuse_init_in*>(arg);
        fuse_init_out out{};
        out.major = FUSE_KERNEL_VERSION;
        out.minor =
            init->minor < FUSE_KERNEL_MINOR_VERSION ? init->minor : FUSE_KERNEL_MINOR_VERSION;
        out.max_readahead = init->max_readahead;
        out.max_write = 1 << 20;
        out.max_background = 16;
        out.congestion_threshold = 12;
        out.time_gran = 1;
        Reply(in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_LOOKUP:
        if (!g_name.empty() && g_name == arg) {
          ReplyEntry(in->unique, kFile);
        } else {
          Reply(in->unique, ENOENT);
        }
        break;
      case FUSE_GETATTR:
        ReplyAttr(in->unique, in->nodeid);
        break;
      case FUSE_SETATTR: {
        const auto* set = reinterpret_cast<const fuse_setattr_in*>(arg);
        if (set->valid & FATTR_SIZE) g_size = set->size;
        ReplyAttr(in->unique, in->nodeid);
        break;
      }
      case FUSE_CREATE: {
        g_name = arg + sizeof(fuse_create_in);
        g_size = 0;
        struct {
          fuse_entry_out entry;
          fuse_open_out open;
        } out{};
        out.entry.nodeid = kFile;
        out.entry.attr = Attr(kFile);
        out.open.fh = 1;
        out.open.open_flags = FOPEN_DIRECT_IO;
        Reply(in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_OPEN:
      case FUSE_OPENDIR: {
        fuse_open_out out{};
        out.fh = 1;
        out.open_flags = in->opcode == FUSE_OPEN ? FOPEN_DIRECT_IO : 0;
        Reply(in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_WRITE: {
        const auto* w = reinterpret_cast<const fuse_write_in*>(arg);
        if (g_size + w->size > g_limit) {
          Reply(in->unique, EIO);
          break;
        }
        g_size += w->size;
        fuse_write_out out{};
        out.size = w->size;
        Reply(in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_READ:
        Reply(in->unique, 0, nullptr, 0);  // the bytes are not kept: reads find nothing
        break;
      case FUSE_UNLINK:
        if (g_name == arg) g_name.clear();
        Reply(in->unique, 0);
        break;
      case FUSE_FLUSH:
      case FUSE_RELEASE:
      case FUSE_RELEASEDIR:
      case FUSE_FSYNC:
      case FUSE_ACCESS:
        Reply(in->unique, 0);
        break;
      case FUSE_STATFS: {
        fuse_statfs_out out{};
        out.st.bsize = out.st.frsize = 4096;
        out.st.blocks = out.st.bfree = out.st.bavail = 1 << 20;
        out.st.namelen = 255;
        Reply(in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_FORGET:
      case FUSE_BATCH_FORGET:
      case FUSE_INTERRUPT:
        break;  // no reply
      case FUSE_DESTROY:
        Reply(in->unique, 0);
        return;
      default:
        Reply(in->unique, ENOSYS);
        break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  g_limit = std::strtoull(argv[2], nullptr, 10);
  g_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (g_fd < 0) {
    std::perror("/dev/fuse");
    return 1;
  }
  const std::string options =
      "fd=" + std::to_string(g_fd) + ",rootmode=40000,user_id=0,group_id=0,allow_other";
  if (mount("eio_fs", argv[1], "fuse.eio_fs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    std::perror("mount");
    return 1;
  }
  // The parent exits only once the server has left its process group: whoever ran the parent may
  // kill that group as soon as it exits (the tests' RunBounded does), and a server killed before
  // its setsid() took the mount down with it (under load, the next stat saw no folder there).
  int ready[2];
  const pid_t server = pipe(ready) == 0 ? fork() : -1;
  if (server < 0) {
    umount2(argv[1], MNT_DETACH);
    return 1;
  }
  if (server == 0) {
    close(ready[0]);
    setsid();  // outlives the parent and its process group
    if (write(ready[1], "s", 1) != 1) _exit(1);
    close(ready[1]);
    Serve();
    _exit(0);
  }
  close(ready[1]);
  char byte = 0;
  ssize_t n;
  while ((n = read(ready[0], &byte, 1)) < 0 && errno == EINTR) {
  }
  return n == 1 ? 0 : 1;
}
