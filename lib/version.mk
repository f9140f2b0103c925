# SPDX-License-Identifier: GPL-2.0
# The version of libzsync-k and libzsync-k-io, in one place for lib/lib.mk,
# the .pc files and `make install`.
#
# The shared libraries are libzsync-k.so.$(ZK_VERSION) with the SONAME
# libzsync-k.so.$(ZK_SOVERSION) (likewise libzsync-k-io).  Raise the major
# number only when the ABI breaks; an added function goes into a new node
# of lib/libzsync-k*.map and raises the minor number.
ZK_VERSION   := 0.1.0
ZK_SOVERSION := $(firstword $(subst ., ,$(ZK_VERSION)))
