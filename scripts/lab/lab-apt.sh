# shellcheck shell=sh
# What the lab's kernel scripts (kernel.sh, kernel-build.sh) share: their
# one-line errors, and a private apt state for Debian's suites under
# $cache/apt (set $cache first), so that the system's apt set-up is left
# alone and every package is checked against the signed index.

mirror=${LAB_MIRROR:-http://deb.debian.org/debian}

# LAB_WHO: who the error is about, put before it (ab.py: "variant C
# (src:sid +p.patch): build").
die() {
	echo "lab: ${LAB_WHO:+$LAB_WHO: }$*" >&2
	exit 1
}
note() { echo "lab: $*" >&2; }

# lab_apt_opts NAME SUITES...: the private apt state NAME with SUITES,
# its lists fetched at most once a day. Prints the apt options to use.
lab_apt_opts() {
	d=${cache:?}/apt/$1
	shift
	mkdir -p "$d/parts" "$d/lists/partial" "$d/cache/archives/partial"
	# Two lab runs at once read the index once, one after the other
	# (the lock goes with the caller's command substitution's subshell).
	exec 8>"$d.lock"
	flock 8
	cat >"$d/parts/lab.sources.new" <<EOF
Types: deb
URIs: $mirror
Suites: $*
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	if ! cmp -s "$d/parts/lab.sources.new" "$d/parts/lab.sources"; then
		mv "$d/parts/lab.sources.new" "$d/parts/lab.sources"
		rm -f "$d/updated"
	else
		rm -f "$d/parts/lab.sources.new"
	fi
	opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$d/parts -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=$d/parts -o Dir::State::Lists=$d/lists -o Dir::State::Status=$d/status -o Dir::Cache=$d/cache -o APT::Sandbox::User=root -o Acquire::Languages=none -o APT::Architecture=amd64 -o APT::Architectures=amd64"
	[ -f "$d/status" ] || : >"$d/status"
	if [ -z "$(find "$d/updated" -mmin -1440 2>/dev/null)" ]; then
		note "reading Debian's index for $* (private apt lists in $d)"
		# Word splitting of $opts is intended here and below.
		# shellcheck disable=SC2086
		if ! apt-get $opts -q update >"$d/update.log" 2>&1 ||
			grep -qE '^(E|W): ' "$d/update.log"; then
			if grep -q 'does not have a Release file' "$d/update.log"; then
				bad=$(sed -n 's/.*repository .* \([a-z0-9-]*\) Release.*does not have a Release file.*/\1/p' "$d/update.log" | head -1)
				rm -rf "$d"
				die "unknown Debian suite '${bad:-$*}': the archive has no Release file for it"
			fi
			msg=$(grep -m1 -E '^(E|W): ' "$d/update.log" || tail -1 "$d/update.log")
			rm -rf "$d"
			die "cannot read Debian's index for $*: $msg"
		fi
		touch "$d/updated"
	fi
	echo "$opts"
}
