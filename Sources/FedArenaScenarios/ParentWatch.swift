import CProcessControl
import FedArenaRuntime
import Foundation

/// Makes a child process of a local run die with its parent.
///
/// The launcher passes `--parent-pid PID` to every child it starts; the child calls
/// ``dieWith(parent:)`` first thing. On Linux that asks the kernel (`prctl(PR_SET_PDEATHSIG,
/// SIGKILL)`) to kill the child as soon as its parent is gone, even when the parent was killed
/// with SIGKILL and could not stop its children itself. The parent may die before the child
/// gets that far, so the child then checks that its parent is still the process it was given,
/// and stops if it is not.
public enum ParentWatch {
    /// Ties this process's life to `parent`'s.
    /// - Parameter parent: The process identifier the launcher passed (`--parent-pid`).
    /// - Throws: ``RuntimeError`` `.coordinatorLost` when `parent` is already gone (this
    ///   process now has another parent), `.launch` when the kernel refuses the request.
    public static func dieWith(parent: Int32) throws(RuntimeError) {
        let result = fedarena_set_parent_death_signal(SIGKILL)
        if result == -1 {
            throw RuntimeError(.launch, "prctl(PR_SET_PDEATHSIG) failed: \(String(cString: strerror(errno)))")
        }
        // -2: no such call on this platform; the getppid check below still catches an orphan at start.
        let actual = getppid()
        if actual != parent {
            throw RuntimeError(.coordinatorLost, "the parent process \(parent) is gone (parent is now \(actual)); exiting")
        }
    }
}
