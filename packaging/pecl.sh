#!/usr/bin/env bash
# make dist, part 1: the PECL source tarball dist/monei_concurrency-<version>.tgz,
# made by `pecl package` from the files package.xml lists plus vendor.tar.gz
# (the crates, packaging/vendor.sh), so `pecl install` builds it offline.
# Prints the tarball's path on the last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
xml_version=$(php -r '$x = simplexml_load_file("package.xml"); echo $x->version->release;')
if [ "$version" != "$xml_version" ]; then
  echo "pecl.sh: package.xml says $xml_version, Cargo.toml $version" >&2
  exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
php -r '$x = simplexml_load_file("package.xml");
  foreach ($x->contents->dir->file as $f) { echo $f["name"], "\n"; }' > "$stage/.files"
while read -r f; do
  [ "$f" = vendor.tar.gz ] && continue
  install -D -m 0644 "$f" "$stage/$f"
done < "$stage/.files"
packaging/vendor.sh "$stage/vendor.tar.gz"
cp package.xml "$stage/"

mkdir -p dist
(cd "$stage" && pecl package package.xml > .pecl.log 2>&1) || { cat "$stage/.pecl.log" >&2; exit 1; }
tgz=dist/monei_concurrency-$version.tgz
mv "$stage/monei_concurrency-$version.tgz" "$tgz"

# The tarball holds package.xml and exactly the files it lists.
diff <({ sed "s#^#monei_concurrency-$version/#" "$stage/.files"; echo package.xml; } | sort) \
     <(tar -tzf "$tgz" | sort) > "$stage/.diff" || {
  echo "pecl.sh: $tgz does not hold exactly what package.xml lists:" >&2
  cat "$stage/.diff" >&2
  exit 1
}
echo "pecl.sh: $(du -h "$tgz" | cut -f1) $(wc -l < "$stage/.files") files"
echo "$root/$tgz"
