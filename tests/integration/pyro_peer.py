"""An independent Modbus peer with the Calex PyroUSB register map, built on pymodbus
(Debian python3-pymodbus, 3.0 in bookworm), not on gatescreen's code: the
pyrometer tests check the daemon against it as well as against gatescreen-sim.

Map (PyroUSB manual, "List of Modbus Addresses"): holding = input registers
0x00..0x18; 0x0F average, 0x10 minimum, 0x11 maximum, 0x12 filtered, 0x13
unfiltered object temperature, 0x14 sensor temperature, all int16 tenths of °C;
0x15 status, bits active high (0 measurement error, 1/2 sensor temperature
low/high, 3/4 object temperature low/high). Unit id 1. Every reply is sent
20 ms late, as the unit's reply delay.

    pyro_peer.py tcp PORT        or        pyro_peer.py rtu PATH (9600 8N1)

Prints "ready" once it serves. Then stdin lines, each answered "ok":
    object T [status S]   object temperature T °C (all five temperature
                          registers), status S (default 0)
    quit
"""
import asyncio
import sys
import threading
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer

REPLY_DELAY_S = 0.020
SENSOR_TYPE = 23            # 0x00: PUA5
SENSOR_TEMP = 240           # 0x14: 24.0 °C inside the head
WALL = 220                  # what it sees with nobody in front: 22.0 °C


def tenths(v):
    return v & 0xFFFF


class Pyrometer:
    def __init__(self):
        regs = [0] * 0x19
        regs[0x00] = SENSOR_TYPE
        regs[0x05] = 1      # its Modbus address
        regs[0x08] = 9800   # emissivity 0.98 (skin)
        # One block serves both functions: the unit answers 0x03 and 0x04 alike.
        self.block = ModbusSequentialDataBlock(0, regs)
        self.slave = ModbusSlaveContext(hr=self.block, ir=self.block, zero_mode=True)
        self.context = ModbusServerContext(slaves={1: self.slave}, single=False)
        self.set(WALL / 10.0, 0)

    def set(self, celsius, status):
        t = tenths(int(round(celsius * 10)))
        self.slave.setValues(3, 0x0F, [t, t, t, t, t, SENSOR_TEMP, status])


def late(response):
    time.sleep(REPLY_DELAY_S)
    return response, False


def serve(kind, where, unit):
    async def run():
        if kind == "tcp":
            await StartAsyncTcpServer(context=unit.context, address=("127.0.0.1", int(where)),
                                      response_manipulator=late)
        else:
            await StartAsyncSerialServer(context=unit.context, framer=ModbusRtuFramer,
                                         port=where, baudrate=9600, bytesize=8, parity="N",
                                         stopbits=1, response_manipulator=late)
    asyncio.run(run())


def main():
    kind, where = sys.argv[1], sys.argv[2]
    unit = Pyrometer()
    threading.Thread(target=serve, args=(kind, where, unit), daemon=True).start()
    time.sleep(0.5)  # the server binds or opens the port in its thread
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            print("ok", flush=True)
            return 0
        if words[0] == "object" and len(words) in (2, 4):
            status = int(words[3], 0) if len(words) == 4 else 0
            unit.set(float(words[1]), status)
            print("ok", flush=True)
        else:
            print("error: %s" % line.strip(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
