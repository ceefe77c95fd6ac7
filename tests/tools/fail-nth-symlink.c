// SPDX-License-Identifier: GPL-2.0
/*
 * fail-nth-symlink N TARGET LINK: symlink(TARGET, LINK) with the Nth
 * fault-injection point of this task failed (/proc/self/fail-nth), for
 * tests/debug-fault-inject-target-setup.sh: linking a subsystem into an
 * nvmet port enables the port, and only the task making the symlink()
 * call counts.  fail-nth is not inherited, and the shell has no symlink
 * builtin, hence this program.  Between arming and reading back it makes
 * no other system call: the file is opened before and read with pread().
 *
 * Prints "ok LEFT" or "fail ERRNO LEFT", LEFT being what fail-nth reads
 * afterwards: 0 when the Nth point was reached (and failed), else how
 * many points short of N the call stayed.  Exit status 2 on a usage or
 * set-up error, else 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[32];
	ssize_t len;
	int fd, rc, err;

	if (argc != 4 || atoi(argv[1]) < 1) {
		fprintf(stderr, "usage: %s N TARGET LINK\n", argv[0]);
		return 2;
	}
	fd = open("/proc/self/fail-nth", O_RDWR);
	if (fd < 0) {
		perror("/proc/self/fail-nth");
		return 2;
	}
	len = snprintf(buf, sizeof(buf), "%d", atoi(argv[1]));
	if (pwrite(fd, buf, len, 0) != len) {
		perror("arming fail-nth");
		return 2;
	}
	rc = symlink(argv[2], argv[3]);
	err = errno;
	len = pread(fd, buf, sizeof(buf) - 1, 0);
	if (pwrite(fd, "0", 1, 0) != 1 || len <= 0) {
		perror("reading back fail-nth");
		return 2;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (rc)
		printf("fail %d %s\n", err, buf);
	else
		printf("ok %s\n", buf);
	return 0;
}
