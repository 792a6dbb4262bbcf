# shellcheck shell=sh
# A private apt set-up: its own sources, lists and cache under one
# directory, so that fetching fio or kernel sources never touches the
# system's apt configuration. Source this file, then:
#   apt_private DIR          make DIR/parts (put *.sources there) and set
#                            $apt_opts for apt-get and apt-cache
#   apt_private_update       apt-get update of those sources only
# The archive's signatures are checked as usual (Signed-By, or the
# system's trusted keys).

apt_private() {
	apt_dir=$1
	mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" \
		"$apt_dir/cache/archives/partial"
	apt_opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt_dir/parts -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o APT::Sandbox::User=root"
}

apt_private_update() {
	# Word splitting of $apt_opts is intended.
	# shellcheck disable=SC2086
	apt-get $apt_opts -qq update >"$apt_dir/update.log" 2>&1
}
