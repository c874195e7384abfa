import CZeroMQ
public func zmqVersion() -> String { var a: Int32 = 0, b: Int32 = 0, c: Int32 = 0; zmq_version(&a, &b, &c); return "\(a).\(b).\(c)" }
