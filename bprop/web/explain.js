(function(){
var panel=document.getElementById('panel'),hint=panel.innerHTML,pinned=null;
function clear(){document.querySelectorAll('.hl').forEach(function(e){e.classList.remove('hl');});}
function show(w){clear();var g=document.getElementById('edge-'+w);
 g.getAttribute('data-path').split(' ').forEach(function(id){
  var e=document.getElementById(id);if(e){e.classList.add('hl');}});
 panel.innerHTML=document.getElementById('deriv-'+w).innerHTML;panel.setAttribute('data-weight',w);}
function reset(){if(pinned){show(pinned);return;}clear();panel.innerHTML=hint;
 panel.removeAttribute('data-weight');}
document.querySelectorAll('.edge').forEach(function(g){var w=g.getAttribute('data-weight');
 g.addEventListener('mouseenter',function(){show(w);});
 g.addEventListener('mouseleave',reset);
 g.addEventListener('click',function(){pinned=(pinned===w)?null:w;reset();if(!pinned){show(w);}});
 g.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();
  pinned=(pinned===w)?null:w;reset();}});});
})();
