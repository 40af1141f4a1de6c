#include <flowpic/flowpic.hpp>
int main() {
    flowpic::flows::flow_table<> table;
    return table.live_flows() == 0 && FLOWPIC_VERSION >= 100 ? 0 : 1;
}
