dnl monei_concurrency for phpize (pecl, PIE, docker-php-ext-install, by hand).
dnl
dnl The extension is Rust (ext-php-rs): there is no C to compile. configure
dnl checks the Rust toolchain and libclang (bindgen reads the PHP headers with
dnl it), and the rule in Makefile.frag runs cargo against the php-config of
dnl this phpize and copies the library to modules/monei_concurrency.so, where
dnl phpize's own `make install` finds it.

PHP_ARG_ENABLE([monei_concurrency],
  [whether to enable monei_concurrency],
  [AS_HELP_STRING([--enable-monei_concurrency],
    [Enable monei_concurrency (Redis locks; built with cargo)])],
  [yes])

if test "$PHP_MONEI_CONCURRENCY" != "no"; then
  dnl The oldest rustc the locked crates accept (redis 1.8, darling 0.24).
  monei_min_rustc=1.88.0
  dnl bindgen's documented floor for libclang.
  monei_min_clang=9

  dnl ext-php-rs supports ZTS, this extension is only built and tested NTS.
  if test "$PHP_THREAD_SAFETY" = "yes"; then
    AC_MSG_ERROR([monei_concurrency is tested on NTS PHP only; this php-config ($PHP_CONFIG) is ZTS])
  fi

  AC_ARG_VAR([CARGO], [cargo command used to build the extension])
  AC_PATH_PROG([CARGO], [cargo], [no])
  if test "$CARGO" = "no"; then
    AC_MSG_ERROR([cargo not found in PATH: install Rust >= $monei_min_rustc (https://rustup.rs) or set CARGO=/path/to/cargo])
  fi
  AC_ARG_VAR([RUSTC], [rustc command cargo uses])
  AC_PATH_PROG([RUSTC], [rustc], [no])
  if test "$RUSTC" = "no"; then
    AC_MSG_ERROR([rustc not found in PATH: install Rust >= $monei_min_rustc (https://rustup.rs) or set RUSTC=/path/to/rustc])
  fi
  AC_MSG_CHECKING([rustc version])
  monei_rustc_version=`"$RUSTC" --version 2>/dev/null | $AWK '{print $2}' | sed 's/-.*//'`
  AC_MSG_RESULT([$monei_rustc_version])
  AS_VERSION_COMPARE([$monei_rustc_version], [$monei_min_rustc],
    [AC_MSG_ERROR([rustc $monei_rustc_version is too old: Rust >= $monei_min_rustc is needed (rustup update stable)])])

  dnl bindgen runs the clang binary to find the system include paths and
  dnl links libclang.
  AC_ARG_VAR([CLANG], [clang command bindgen uses for include paths])
  AC_PATH_PROG([CLANG], [clang], [no])
  if test "$CLANG" = "no"; then
    AC_MSG_ERROR([clang not found in PATH: install clang >= $monei_min_clang and libclang (Debian/Ubuntu: apt install clang libclang-dev)])
  fi
  AC_MSG_CHECKING([clang version])
  monei_clang_version=`"$CLANG" --version 2>/dev/null | sed -n 's/.*clang version \([[0-9.]]*\).*/\1/p' | head -n 1`
  AC_MSG_RESULT([$monei_clang_version])
  AS_VERSION_COMPARE([$monei_clang_version], [$monei_min_clang],
    [AC_MSG_ERROR([clang $monei_clang_version is too old: clang/libclang >= $monei_min_clang is needed])])

  dnl Where clang-sys looks for libclang.so: LIBCLANG_PATH, llvm-config, the
  dnl usual library directories.
  AC_MSG_CHECKING([for libclang])
  monei_libclang=
  monei_llvm_libdir=`llvm-config --libdir 2>/dev/null`
  for monei_dir in $LIBCLANG_PATH $monei_llvm_libdir /usr/lib/llvm-*/lib /usr/lib/`$CC -print-multiarch 2>/dev/null` /usr/lib64 /usr/lib /usr/local/lib; do
    for monei_f in "$monei_dir"/libclang.so "$monei_dir"/libclang-*.so "$monei_dir"/libclang.so.*; do
      if test -f "$monei_f"; then
        monei_libclang=$monei_f
        break 2
      fi
    done
  done
  if test -z "$monei_libclang"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([libclang not found: install libclang-dev (Debian/Ubuntu) or clang-devel (Fedora), or set LIBCLANG_PATH to the directory of libclang.so])
  fi
  AC_MSG_RESULT([$monei_libclang])

  dnl A PECL tarball carries the crates (vendor.tar.gz): build offline from
  dnl them. A git checkout fetches them from crates.io (Cargo.lock pins them).
  monei_abs_srcdir=`cd "$srcdir" && pwd`
  monei_abs_builddir=`pwd`
  AC_MSG_CHECKING([for vendored crates])
  if test -f "$monei_abs_srcdir/vendor.tar.gz"; then
    MONEI_VENDOR_TARBALL=$monei_abs_srcdir/vendor.tar.gz
    AC_MSG_RESULT([$MONEI_VENDOR_TARBALL (offline build)])
  else
    MONEI_VENDOR_TARBALL=
    AC_MSG_RESULT([no, cargo downloads them])
  fi

  dnl cargo's output: $CARGO_TARGET_DIR when set at configure time, else
  dnl target/ in the build directory (make clean deletes it).
  MONEI_CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$monei_abs_builddir/target}
  MONEI_PHP_CONFIG=`command -v "$PHP_CONFIG"`
  MONEI_SRCDIR=$monei_abs_srcdir

  PHP_ADD_BUILD_DIR([modules])
  PHP_MODULES="\$(phplibdir)/monei_concurrency.so"
  PHP_SUBST(MONEI_VENDOR_TARBALL)
  PHP_SUBST(MONEI_CARGO_TARGET_DIR)
  PHP_SUBST(MONEI_PHP_CONFIG)
  PHP_SUBST(MONEI_SRCDIR)
  PHP_SUBST(CARGO)
  PHP_SUBST(RUSTC)
  PHP_SUBST(CLANG)
  PHP_ADD_MAKEFILE_FRAGMENT([$monei_abs_srcdir/Makefile.frag], [$monei_abs_srcdir], [$monei_abs_builddir])
fi
