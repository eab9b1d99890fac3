// Data-parallel training over libtorch's own c10d (TCPStore rendezvous +
// ProcessGroupGloo collectives), as PyTorch's DistributedDataParallel uses
// it. distributed.cc holds the JS-visible ProcessGroup; torch_model.cc calls
// the collectives below from inside its training step. The group itself is
// opaque here so that torch_model.cc need not include Gloo's headers.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace engines {

class DistGroup;

// The connected group behind a JS ProcessGroup (TypeError otherwise).
std::shared_ptr<DistGroup> DistGroupArg(Napi::Env env, const Napi::Value& v, const char* what);
int DistRank(const DistGroup& g);
int DistWorldSize(const DistGroup& g);

// In-place SUM all-reduce / broadcast from `root` of CPU tensors, each with
// the group's timeout. A failure (dead peer, timeout) throws a
// std::runtime_error naming this rank, the world, the collective and `what`.
void DistAllReduceSum(DistGroup& g, std::vector<at::Tensor>& tensors, const std::string& what);
void DistBroadcast(DistGroup& g, std::vector<at::Tensor>& tensors, int root, const std::string& what);
// Waits (rendezvous timeout) until every rank has called it, over the TCPStore.
void DistStoreBarrier(DistGroup& g, const std::string& what);

}  // namespace engines
