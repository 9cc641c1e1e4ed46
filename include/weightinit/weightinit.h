/* weightinit: neural-network weight initialisation as MMEngine and
 * PyTorch do it, configured from JSON, extended by plugins, bit-exact
 * against PyTorch 1.13.  This umbrella header includes every public
 * header; each concept also has its own. */
#ifndef WEIGHTINIT_WEIGHTINIT_H
#define WEIGHTINIT_WEIGHTINIT_H

#include <weightinit/checkpoint.h>
#include <weightinit/checkpoint_write.h>
#include <weightinit/context.h>
#include <weightinit/diagnostics.h>
#include <weightinit/engine.h>
#include <weightinit/error.h>
#include <weightinit/functional.h>
#include <weightinit/init.h>
#include <weightinit/model.h>
#include <weightinit/module.h>
#include <weightinit/output.h>
#include <weightinit/partition.h>
#include <weightinit/plugin.h>
#include <weightinit/registry.h>
#include <weightinit/kernels.h>
#include <weightinit/rng.h>
#include <weightinit/state_dict.h>
#include <weightinit/tensor.h>
#include <weightinit/types.h>
#include <weightinit/value.h>
#include <weightinit/version.h>

#endif
