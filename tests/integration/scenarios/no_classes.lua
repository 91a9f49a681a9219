local cicada = require "cicada"
