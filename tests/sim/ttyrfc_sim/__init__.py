"""ttyrfc test fixtures: a simulated ESP32 board (board.py) exposed as the pyserial
URL ``esp32sim://NAME?flash=FILE&events=FILE&pace=1&en_delay=0.005&tick=0.5``
(protocol_esp32sim.py). Use it with::

    sys.path.insert(0, 'tests/sim')
    serial.protocol_handler_packages.append('ttyrfc_sim')
    port = serial.serial_for_url('esp32sim://board0')
"""
