/**
 * The fixed part of every exported program (scenario-api.md §4.3): TAP output, result and locked_vm
 * checks, the capability and RLIMIT_MEMLOCK set-up of a process, and the parent/child protocol that runs
 * each emulated process as a forked child. generate.ts writes the scenario-specific part around it.
 *
 * Only libc and the kernel's uAPI headers: the capability structures are declared here (they are the
 * capget(2)/capset(2) ABI) rather than taken from <linux/capability.h>.
 */
export const RUNTIME_C = String.raw`/* ---- runtime: TAP, checks, processes (the same in every exported program) --------------------------- */

RT int mismatches;          /* "not ok" lines printed by this process since its last report */
RT int is_child;            /* 1 in a forked emulated process */
RT int my_sock = -1;        /* child: its end of the socket pair to the parent */

RT const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "E?";
	}
}

/* "0", "1" or "-16 EBUSY (Device or resource busy)" */
RT const char *ret_text(long r, char *buf, size_t len)
{
	if (r >= 0)
		snprintf(buf, len, "%ld", r);
	else
		snprintf(buf, len, "%ld %s (%s)", r, errno_name((int)-r), strerror((int)-r));
	return buf;
}

RT void report_to_parent(int bailed, int fd);

RT void bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
RT void bail(const char *fmt, ...)
{
	va_list ap;
	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (is_child) {
		report_to_parent(1, -1);
		_exit(2);
	}
	for (int i = 0; i < NPROCS; i++)
		if (child_pid[i] > 0)
			kill(child_pid[i], SIGKILL); /* our own children only */
	exit(2);
}

RT void tap(int n, int ok)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", n, test_desc[n]);
	if (!ok)
		mismatches++;
}

RT void tap_skip(int n, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", n, test_desc[n], why);
}

/* An output field of an ioctl, compared only when the call succeeded as it did on the emulated host. */
struct field {
	const char *name;
	uint64_t got, want;
};

/* ret: what the kernel handler returned (0, a positive value or -errno), as the emulated host reports it */
RT void check_call(int n, long got, long want, const struct field *f, int nf)
{
	char a[96], b[96];
	int ok = got == want;
	for (int i = 0; ok && got >= 0 && i < nf; i++)
		ok = f[i].got == f[i].want;
	tap(n, ok);
	if (got != want) {
		printf("#   result: got %s, the emulated host returned %s\n", ret_text(got, a, sizeof a),
		       ret_text(want, b, sizeof b));
		return;
	}
	for (int i = 0; got >= 0 && i < nf; i++)
		if (f[i].got != f[i].want)
			printf("#   %s: got 0x%" PRIx64 ", the emulated host returned 0x%" PRIx64 "\n", f[i].name, f[i].got,
			       f[i].want);
}

/* ioctl(2) as the kernel handler's return value: -errno on failure */
RT long xioctl(int fd, unsigned long request, void *arg)
{
	long r = ioctl(fd, request, arg);
	return r < 0 ? -errno : r;
}

RT long xioctl_val(int fd, unsigned long request, unsigned long arg)
{
	long r = ioctl(fd, request, arg);
	return r < 0 ? -errno : r;
}

/*
 * locked_vm of a process, read where the kernel shows it: the VmLck: line of /proc/<pid>/status, in kB
 * (mm->locked_vm << (PAGE_SHIFT - 10)). mlock(2)'ed memory is counted there too: this program locks
 * nothing itself, so VmLck is what VFIO (and the scenario's own mlock calls) charged. pid 0 = this process.
 */
RT long vmlck_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	if (pid)
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof path, "/proc/self/status");
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmLck:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

RT void check_locked_vm(int n, pid_t pid, uint64_t pages, uint64_t page_size)
{
	long kb = vmlck_kb(pid);
	uint64_t want = pages * (page_size / 1024);
	tap(n, kb >= 0 && (uint64_t)kb == want);
	if (kb < 0)
		printf("#   no VmLck: line in /proc/%s/status\n", pid ? "<pid>" : "self");
	else if ((uint64_t)kb != want)
		printf("#   VmLck: %ld kB = %" PRIu64 " pages of %" PRIu64 " bytes; the emulated locked_vm is %" PRIu64
		       " pages (%" PRIu64 " kB)\n",
		       kb, (uint64_t)kb / (page_size / 1024), page_size, pages, want);
}

/* RLIMIT_MEMLOCK (soft) as the scenario sets it; the hard limit is raised only when it is lower */
RT void set_memlock(uint64_t bytes, const char *who)
{
	struct rlimit r;
	rlim_t want = bytes == UINT64_MAX ? RLIM_INFINITY : (rlim_t)bytes;
	if (getrlimit(RLIMIT_MEMLOCK, &r))
		bail("%s: getrlimit(RLIMIT_MEMLOCK): %s", who, strerror(errno));
	r.rlim_cur = want;
	if (r.rlim_max != RLIM_INFINITY && (want == RLIM_INFINITY || r.rlim_max < want))
		r.rlim_max = want;
	if (setrlimit(RLIMIT_MEMLOCK, &r))
		bail("%s: setrlimit(RLIMIT_MEMLOCK, %" PRIu64 "): %s (raising the hard limit needs root)", who,
		     bytes, strerror(errno));
}

/*
 * CAP_IPC_LOCK lifts the RLIMIT_MEMLOCK check of every locked_vm charge. A process can drop it from its
 * effective set and raise it again while it is permitted, but no program can grant it to itself: a
 * scenario process that has it needs this program to run with it (as root).
 */
struct cap_header {
	uint32_t version;
	int pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};
#define CAP_VERSION_3 0x20080522
#define CAP_IPC_LOCK_BIT 14

RT void set_cap_ipc_lock(int on, const char *who)
{
	struct cap_header h = { CAP_VERSION_3, 0 };
	struct cap_data d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d))
		bail("%s: capget: %s", who, strerror(errno));
	if (on && !(d[0].permitted & (1u << CAP_IPC_LOCK_BIT)))
		bail("%s needs CAP_IPC_LOCK, which a program cannot grant itself: run this program as root", who);
	if (on)
		d[0].effective |= 1u << CAP_IPC_LOCK_BIT;
	else
		d[0].effective &= ~(1u << CAP_IPC_LOCK_BIT);
	if (syscall(SYS_capset, &h, d))
		bail("%s: capset(CAP_IPC_LOCK %s): %s", who, on ? "on" : "off", strerror(errno));
}

RT void *map_memory(uint64_t hint, uint64_t size, int prot, int huge16m, const char *what)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	if (huge16m)
		flags |= MAP_HUGETLB | (24 << MAP_HUGE_SHIFT);
	else
		flags |= MAP_NORESERVE; /* nothing is touched; registration pins what it needs */
	void *p = mmap((void *)(uintptr_t)hint, (size_t)size, prot, flags, -1, 0);
	if (p == MAP_FAILED)
		bail("%s: mmap of %" PRIu64 " bytes%s failed: %s%s", what, size, huge16m ? " of 16 MiB hugetlb pages" : "",
		     strerror(errno), huge16m ? " (reserve them: echo N > /proc/sys/vm/nr_hugepages)" : "");
	return p;
}

/* open(2) that this program needs to succeed (the emulated host's open succeeded) */
RT int open_or_bail(const char *path, const char *what)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		bail("%s: open(%s): %s", what, path, strerror(errno));
	return fd;
}

/* ---- the processes: each emulated process is a forked child that runs its steps on request ---------- */

enum { CMD_STEP = 1, CMD_SEND_CONTAINER, CMD_TAKE_CONTAINER, CMD_EXIT };
struct cmd {
	int op, arg;
};
struct reply {
	int mismatches, bailed;
};

/* one message with an optional fd (SCM_RIGHTS): how a container fd passes between processes */
RT int send_msg(int sock, const void *buf, size_t len, int fd)
{
	struct iovec iov = { (void *)buf, len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&u, 0, sizeof u);
		m.msg_control = u.buf;
		m.msg_controllen = sizeof u.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	return sendmsg(sock, &m, 0) == (ssize_t)len ? 0 : -1;
}

RT int recv_msg(int sock, void *buf, size_t len, int *fd)
{
	struct iovec iov = { buf, len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	ssize_t n = recvmsg(sock, &m, 0);
	if (fd) {
		*fd = -1;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (n > 0 && c && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof *fd);
	}
	return n == (ssize_t)len ? 0 : -1;
}

RT void report_to_parent(int bailed, int fd)
{
	struct reply r = { mismatches, bailed };
	fflush(stdout);
	mismatches = 0;
	if (send_msg(my_sock, &r, sizeof r, fd))
		_exit(3);
}

RT void child_loop(void)
{
	for (;;) {
		struct cmd c;
		int fd;
		if (recv_msg(my_sock, &c, sizeof c, &fd))
			_exit(3); /* the parent is gone */
		switch (c.op) {
		case CMD_STEP:
			steps[c.arg].fn();
			report_to_parent(0, -1);
			break;
		case CMD_SEND_CONTAINER:
			report_to_parent(0, container_fd[c.arg]);
			break;
		case CMD_TAKE_CONTAINER:
			container_fd[c.arg] = fd;
			report_to_parent(0, -1);
			break;
		default:
			fflush(stdout);
			_exit(0); /* process exit: the kernel closes its fds and tears its mm down */
		}
	}
}

RT int total_mismatches;

/* parent: one request to a child, and its answer */
RT int ask(int proc, int op, int arg, int fd_in)
{
	struct cmd c = { op, arg };
	struct reply r;
	int fd_out = -1;
	if (send_msg(child_sock[proc], &c, sizeof c, fd_in) || recv_msg(child_sock[proc], &r, sizeof r, &fd_out))
		bail("emulated process %s (child %d) died unexpectedly", proc_name[proc], (int)child_pid[proc]);
	total_mismatches += r.mismatches;
	if (r.bailed) { /* the child printed its Bail out! line */
		waitpid(child_pid[proc], NULL, 0);
		child_pid[proc] = 0;
		for (int i = 0; i < NPROCS; i++)
			if (child_pid[i] > 0)
				kill(child_pid[i], SIGKILL); /* our own children only */
		exit(2);
	}
	return fd_out;
}

RT void start_proc(int proc)
{
	int sv[2];
	fflush(stdout);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		bail("socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		is_child = 1;
		my_sock = sv[1];
		close(sv[0]);
		for (int i = 0; i < NPROCS; i++)
			if (child_sock[i] >= 0)
				close(child_sock[i]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_loop();
	}
	close(sv[1]);
	child_pid[proc] = pid;
	child_sock[proc] = sv[0];
}

RT void end_proc(int proc)
{
	struct cmd c = { CMD_EXIT, 0 };
	if (child_pid[proc] <= 0)
		return;
	send_msg(child_sock[proc], &c, sizeof c, -1);
	waitpid(child_pid[proc], NULL, 0);
	close(child_sock[proc]);
	child_pid[proc] = 0;
	child_sock[proc] = -1;
}

/* fd passing: the container fd of one process, received by another (SCM_RIGHTS through the parent) */
RT void pass_container(int from, int to, int container)
{
	int fd = ask(from, CMD_SEND_CONTAINER, container, -1);
	if (fd < 0)
		bail("%s has no open fd of container %d to pass", proc_name[from], container);
	ask(to, CMD_TAKE_CONTAINER, container, fd);
	close(fd);
}

RT void run_step(int i)
{
	const struct step *s = &steps[i];
	if (host_skip[s->host]) {
		for (int n = s->first_test; n < s->first_test + s->tests; n++)
			tap_skip(n, host_skip[s->host]);
		return;
	}
	if (s->proc < 0) {
		s->fn(); /* a step of the parent: starting, ending or connecting processes, host checks */
		total_mismatches += mismatches;
		mismatches = 0;
		return;
	}
	if (child_pid[s->proc] <= 0)
		start_proc(s->proc);
	ask(s->proc, CMD_STEP, i, -1);
}

/* real IOMMU group number and its devices (sorted names in /sys/kernel/iommu_groups/<n>/devices) */
RT unsigned long group_no[NGROUPS > 0 ? NGROUPS : 1];
RT char group_path[NGROUPS > 0 ? NGROUPS : 1][64];

RT int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the real name of the index-th device of group g (in sorted order), as VFIO_GROUP_GET_DEVICE_FD takes it */
RT const char *real_device(int g, int index)
{
	static char name[256];
	char dir[96];
	char *names[256];
	int n = 0;
	snprintf(dir, sizeof dir, "/sys/kernel/iommu_groups/%lu/devices", group_no[g]);
	DIR *d = opendir(dir);
	if (!d)
		bail("%s: %s", dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], name_cmp);
	if (index >= n)
		bail("IOMMU group %lu has %d device(s); the scenario uses device %d of its group", group_no[g], n,
		     index + 1);
	snprintf(name, sizeof name, "%s", names[index]);
	for (int i = 0; i < n; i++)
		free(names[i]);
	return name;
}

RT void check_environment(int argc, char **argv)
{
	if (access("/dev/vfio/vfio", F_OK))
		bail("/dev/vfio/vfio is missing: this host has no VFIO (modprobe vfio-pci and, on POWER, "
		     "vfio_iommu_spapr_tce)");
	if (argc - 1 != NGROUPS)
		bail("usage: %s%s: %d real IOMMU group number(s), one per emulated group in the order the scenario "
		     "adds them (%s)",
		     argv[0], NGROUPS ? " GROUP..." : "", NGROUPS, GROUP_USAGE);
	for (int g = 0; g < NGROUPS; g++) {
		char *end;
		errno = 0;
		group_no[g] = strtoul(argv[g + 1], &end, 10);
		if (errno || end == argv[g + 1] || *end)
			bail("'%s' is not an IOMMU group number", argv[g + 1]);
		snprintf(group_path[g], sizeof group_path[g], "/dev/vfio/%lu", group_no[g]);
		if (access(group_path[g], F_OK))
			bail("IOMMU group %lu is missing: %s does not exist (bind the group's devices to vfio-pci)",
			     group_no[g], group_path[g]);
	}
}
`;
