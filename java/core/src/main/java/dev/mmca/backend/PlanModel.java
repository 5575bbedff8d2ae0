package dev.mmca.backend;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaInputs;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.SimpleMmcaPlan;

/** Every backend's prepared model: the SimpleMMCA plan for each input shape, run on the backend's machine. */
final class PlanModel extends PreparedModel {
    private final SimpleMmcaPlan plan;
    private final Machine machine;

    PlanModel(SimpleMmcaPlan plan, Machine machine) {
        super(plan.config());
        this.plan = plan;
        this.machine = machine;
    }

    Machine machine() {
        return machine;
    }

    @Override
    protected void doForward(MmcaInputs in, FloatTensor visualOut, FloatTensor textOut) {
        SimpleMmcaPlan.Forward f = plan.forward(in.batch(), in.visualTokens(), in.textTokens(),
                in.visualMask() != null, in.textMask() != null);
        PlanIo io = new PlanIo()
                .tensor(f.visual, in.visual()).tensor(f.text, in.text())
                .mask(f.visualMask, in.visualMask()).mask(f.textMask, in.textMask())
                .tensor(f.visualOut, visualOut).tensor(f.textOut, textOut);
        machine.run(f.plan, io);
    }

    @Override
    protected void doClose() {
        machine.close();
    }

    @Override
    public String toString() {
        return "PlanModel{" + config() + ", " + machine + (isClosed() ? ", closed" : "") + "}";
    }
}
