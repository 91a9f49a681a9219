#pragma once

namespace cicada::target {

// `cicada target [--host H] [--port P] [--threads N]`: argv[0] is "target".
int target_main(int argc, char** argv);

}  // namespace cicada::target
