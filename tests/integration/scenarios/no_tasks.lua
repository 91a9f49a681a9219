local cicada = require "cicada"
cicada.user("Idle")
